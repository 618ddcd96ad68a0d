"""The live recommender for one catalog: durable events in, personal rankings out.

- Loads the trained bundle from `<models_dir>/<catalog>/` at start and reloads it when the
  CURRENT pointer changes (checked on every call: one small file read) or on `reload()`; the
  swap is a single reference assignment, so concurrent requests see the old or the new bundle.
- Keeps a live profile per user (see profile.py). `record()` commits the event durably, then
  folds it into the profile; the very next `recommend()` reads the new state. Profiles are
  checked against the event store's per-user watermark on every request, so events written by
  another process (CLI, another worker sharing the PostgreSQL store) or a forgotten user are
  picked up by the next request. Profiles live in this process or, shared, in Redis
  (profile.RedisProfileStore): then any worker continues from the state another one saved.
- Scores: every model in the bundle scores the live history through the Recommender hooks
  `fold_in` (per-user state, cached until the next event or model swap: ALS solves the user's factors the way
  implicit's recalculate_user does) and `score_live`; content uses the profile's
  time-decayed interest vector; an affinity component uses category / brand / price band;
  a query's candidate pool adds a retrieval component. Fusion weights come from the bundle.
- When the bundle has a re-ranker (rerank.py) and the shopper has a history of at least
  `cold_start_events`, the bundle's fusion picks the top candidates (after the exclusions and
  filters) and the re-ranker orders them, as in the offline harness. Not for a query's
  candidate pool (retrieval relevance is not one of its features).
- Never raises for an unknown / anonymous user: popularity (+ MMR diversity) is the floor.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bundle import ModelBundle, bundle_root, current_version, read_bundle
from .events import Event, EventAck, EventStore
from .fusion import NEG, ScoredItem, drop_rows, fuse, keep_rows, mmr, top_rows, zscore
from .profile import CatalogFeatures, ProfileConfig, ProfileStore, UserProfile
from .rerank import ItemSide


@dataclass
class ServiceConfig:
    # Live-profile settings (sequence length, decay half-life, price bands).
    profile: ProfileConfig = None  # type: ignore[assignment]
    # Weight of the query relevance component (z-scored) when candidates come from a search.
    retrieval_weight: float = 1.5
    # Weight of the category / brand / price-band affinity component (not fitted: the
    # training data has no such fields; 0 disables it).
    affinity_weight: float = 0.3
    # Users with fewer events than this get at least these weights on content and popularity
    # (a brand-new shopper: content + popularity from the first event).
    cold_start_events: int = 3
    cold_content_weight: float = 1.0
    cold_pop_weight: float = 0.3
    # MMR diversity used for anonymous / no-history users (popularity with diversity).
    anonymous_diversity: float = 0.3
    # Items scored before MMR re-ranking (as a multiple of k).
    mmr_pool: int = 5
    # Recent events the models read.
    max_history: int = 50
    # "You bought X" evidence: X is cited only when X itself lifted the product - its share of the
    # product's item-kNN score (sum over the history) is at least support_share, or, without a
    # co-occurrence, its embedding cosine with the product is at least support_cosine.
    support_share: float = 0.4
    support_cosine: float = 0.5
    # Score models marked parallel_live (SASRec) in a worker thread while the other components
    # are computed (two cores: the forward pass overlaps ALS / item-kNN / content).
    parallel_models: bool = True

    def __post_init__(self) -> None:
        if self.profile is None:
            self.profile = ProfileConfig()


class RecommendationService:
    """Live recommendations for one catalog (duck-typed: name, ids, index, embeddings, get/products)."""

    def __init__(self, catalog, events: EventStore, models_dir: Path | str, config: ServiceConfig | None = None,
                 profiles: ProfileStore | None = None):
        self.catalog = catalog
        self.events = events
        self.config = config or ServiceConfig()
        self.root = bundle_root(models_dir, catalog.name)
        self.ids: list[str] = list(catalog.ids)
        self.index: dict[str, int] = catalog.index
        self.n = len(self.ids)
        emb = getattr(catalog, "embeddings", None)
        self.embeddings = None if emb is None else np.ascontiguousarray(emb, dtype=np.float32)
        self.features = CatalogFeatures(catalog, self.config.profile.price_bands)
        self.item_side = ItemSide.from_features(self.features, self.embeddings)
        if self.events.known_items is None:
            self.events.known_items = self.index
        # in this process (default) or shared by every worker (profile.RedisProfileStore)
        self.profiles = profiles if profiles is not None else ProfileStore()
        self._bundle_lock = threading.Lock()
        self._bundle: ModelBundle | None = None
        self._version: str | None = None
        self._maps: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
        self._fallback_pop: np.ndarray | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.reload()

    # Models --------------------------------------------------------------------------------
    def reload(self) -> str | None:
        """(Re)load the live bundle; returns its version (None: no trained models yet)."""
        with self._bundle_lock:
            version = current_version(self.root)
            bundle = read_bundle(self.root) if version else None
            maps = (None, None)
            if bundle is not None and bundle.item_ids != self.ids:
                model_index = {x: r for r, x in enumerate(bundle.item_ids)}
                to_model = np.array([model_index.get(x, -1) for x in self.ids], dtype=np.int64)
                maps = (to_model, None)
            self._bundle, self._version, self._maps = bundle, (bundle.version if bundle else None), maps
            if bundle is None or "pop" not in bundle.models:
                self._fallback_pop = self._popularity_from_events()
            return self._version

    def _maybe_reload(self) -> None:
        if current_version(self.root) != self._version:
            self.reload()

    @property
    def version(self) -> str | None:
        return self._version

    def _popularity_from_events(self) -> np.ndarray:
        counts = np.zeros(self.n, dtype=np.float64)
        for _user, item, etype, _ts, _v, _t in self.events.iter_rows():
            r = self.index.get(item) if item else None
            if r is not None and etype != "search":
                counts[r] += 1
        return np.log1p(counts).astype(np.float32)

    # Events --------------------------------------------------------------------------------
    def record(self, event: Event | dict) -> EventAck:
        """Durably store the event (ack only after commit), then update the live profile."""
        ack = self.events.add(event)
        if ack.duplicate:
            return ack
        ev = event if isinstance(event, Event) else self.events.validate(event)
        profile = self._profile(ev.user_id, sync=False)
        with profile.lock:
            count, top = profile.watermark
            if ack.seq > top:
                profile.apply(ev, self.index.get(ev.item_id) if ev.item_id else None,
                              self.embeddings, self.features, self.config.profile)
                profile.watermark = (count + 1, ack.seq)
                self.profiles.save(profile)
        return ack

    def forget_user(self, user_id: str) -> int:
        """Erase the user's events and live state; returns the number of events deleted."""
        n = self.events.forget_user(user_id)
        self.profiles.drop(user_id)
        return n

    def profile(self, user_id: str) -> dict:
        p = self._profile(user_id)
        with p.lock:
            return p.summary(self.ids, self.features)

    def _profile(self, user_id: str, sync: bool = True) -> UserProfile:
        p, created = self.profiles.get_or_create(user_id)
        if (created or sync) and self._sync(p):
            self.profiles.save(p)
        return p

    def _sync(self, p: UserProfile) -> bool:
        """Bring the profile in line with the store (other writers, other workers, forgets);
        True when it changed. One indexed COUNT/MAX query when nothing changed."""
        mark = self.events.user_watermark(p.user_id)
        with p.lock:
            if mark == p.watermark:
                return False
            new = self.events.user_events(p.user_id, since_seq=p.watermark[1], until_seq=mark[1])
            # deletions, late commits, or a store whose highest seq went back (a profile saved from
            # another event store, a restored database): rebuild from scratch
            if mark[0] != p.watermark[0] + len(new) or mark[1] < p.watermark[1]:
                fresh = UserProfile(p.user_id)
                new = self.events.user_events(p.user_id, until_seq=mark[1])
                for name in ("rows", "types", "weights", "times", "owned", "interest", "category_aff", "brand_aff",
                             "band_aff", "queries", "last_time", "n_events", "cache"):
                    setattr(p, name, getattr(fresh, name))
            for ev in new:
                p.apply(ev, self.index.get(ev.item_id) if ev.item_id else None, self.embeddings, self.features,
                        self.config.profile)
            p.watermark = mark
            return True

    # Recommendations -----------------------------------------------------------------------
    def recommend(
        self,
        user_id: str | None,
        k: int = 10,
        candidates: Sequence | None = None,
        filters=None,
        exclude_purchased: bool = True,
        diversity: float = 0.0,
    ) -> list[ScoredItem]:
        """Top-k products for the user (None / unknown = anonymous).

        candidates: a search's candidate pool (objects with .row or .id and .score, e.g.
        retrieval Hits); ranking is then restricted to them and their score is a component.
        filters: SearchFilters / dict (min_price, max_price, category, brand, must_have, exclude).
        diversity: MMR trade-off in [0, 1] (0 = pure relevance).
        """
        if k <= 0:
            raise ValueError(f"Expected k > 0, got {k}")
        self._maybe_reload()
        with _one_blas_thread():  # small matrix-vector work: BLAS threads only add overhead
            return self._recommend(user_id, k, candidates, filters, exclude_purchased, diversity)

    def _recommend(self, user_id, k, candidates, filters, exclude_purchased, diversity) -> list[ScoredItem]:
        bundle = self._bundle
        profile = self._profile(user_id) if user_id else None
        with (profile.lock if profile else _nolock):
            hist, hw = profile.history() if profile else (np.zeros(0, np.int64), np.zeros(0))
            hist, hw = hist[-self.config.max_history :], hw[-self.config.max_history :]
            components, weights = self._components(bundle, profile, hist, hw)
            owned = list(profile.owned) if (profile and exclude_purchased) else []
            htypes = list(profile.types)[-len(hist):] if profile and len(hist) else []
        if candidates is not None:
            rows, rscore = self._candidate_rows(candidates)
            if rows.size:
                retrieval = np.full(self.n, np.nan, dtype=np.float32)
                retrieval[rows] = rscore
                components["retrieval"] = _fill_nan(retrieval)
                weights["retrieval"] = self.config.retrieval_weight
        z = {name: zscore(s) for name, s in components.items()}
        contrib = {name: weights[name] * z[name] for name in components if weights.get(name)}
        total = sum(contrib.values()) if contrib else np.zeros(self.n, np.float32)
        scores = np.asarray(total, dtype=np.float32)
        if candidates is not None:
            scores = keep_rows(scores, rows)
        if owned:
            scores = drop_rows(scores, owned)
        if filters is not None:
            scores = np.where(self.features.filter_mask(filters), scores, -np.inf).astype(np.float32)
        if diversity == 0.0 and not len(hist):
            diversity = self.config.anonymous_diversity
        rr = bundle.reranker if bundle is not None else None
        if (rr is not None and candidates is None and len(hist) >= self.config.cold_start_events
                and all(c in z for c in rr.components)):
            # the re-ranker's own fusion (the bundle's weights, as trained) picks its pool
            base = np.where(np.isfinite(scores), fuse({c: z[c] for c in rr.components}, rr.weights, normalise=False),
                            NEG).astype(np.float32)
            depth = max(rr.config.depth, k * self.config.mmr_pool if diversity > 0 else k)
            cand, pred = rr.rerank(z, base, hist, self.item_side, depth)
            scores = np.full(self.n, NEG, dtype=np.float32)
            scores[cand] = pred
        pool = top_rows(scores, k * self.config.mmr_pool if diversity > 0 else k)
        if diversity > 0 and pool.size:
            vectors = self.embeddings if self.embeddings is not None else self._cooccurrence_vectors(bundle)
            pool = mmr(pool, scores[pool], vectors, k, diversity) if vectors is not None else pool[:k]
        rows = pool[:k]
        support, strength, via = self._most_similar_history(rows, hist, bundle)
        # each component's values at the shown rows, read once per component (exact floats)
        at_rows = {name: v[rows].tolist() for name, v in contrib.items()}
        return [self._scored(int(r), score, {name: vals[i] for name, vals in at_rows.items()}, hist, htypes,
                             (int(j), float(x), how) if j >= 0 else None)
                for i, (r, score, j, x, how) in enumerate(zip(rows, scores[rows].tolist(), support, strength, via))]

    def _components(self, bundle, profile, hist, hw) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        comps: dict[str, np.ndarray] = {}
        weights = dict(bundle.weights) if bundle else {}
        to_model, _ = self._maps
        models = bundle.models if bundle else {}
        if "pop" in models:
            comps["pop"] = self._to_catalog(models["pop"].score([]), to_model)
        else:
            comps["pop"] = self._fallback_pop
            weights.setdefault("pop", 1.0)
        if len(hist):
            mh, mw = (hist, hw) if to_model is None else _map_history(hist, hw, to_model)
            live = [(n, m) for n, m in models.items() if n not in ("pop", "content") and len(mh)]
            # popularity is the floor above; content reads the profile's interest below
            late = {}
            if self.config.parallel_models and any(m.parallel_live for _, m in live) and len(live) > 1:
                late = {n: self._workers().submit(_score_live, m, mh, mw, self._cached(profile, n, bundle))
                        for n, m in live if m.parallel_live}
            for name, model in live:
                if name in late:
                    comps[name] = None   # its place in the order (the fused sum adds in this order)
                    continue
                state, scores = _score_live(model, mh, mw, self._cached(profile, name, bundle))
                self._cache(profile, name, bundle, state)
                comps[name] = self._to_catalog(scores, to_model)
            interest = profile.interest_unit() if profile else None
            if interest is not None and self.embeddings is not None:
                comps["content"] = self.embeddings @ interest
                if "content" not in weights:
                    weights["content"] = 1.0 if not models else 0.0
            if profile is not None and profile.n_events < self.config.cold_start_events:
                if "content" in comps:
                    weights["content"] = max(weights.get("content", 0.0), self.config.cold_content_weight)
                weights["pop"] = max(weights.get("pop", 0.0), self.config.cold_pop_weight)
            aff = profile.affinity_scores(self.features) if profile else None
            if aff is not None and self.config.affinity_weight:
                comps["affinity"] = aff
                weights["affinity"] = self.config.affinity_weight
            for name, future in late.items():
                state, scores = future.result()
                self._cache(profile, name, bundle, state)
                comps[name] = self._to_catalog(scores, to_model)
        else:
            weights = {"pop": 1.0}
        keep = set(bundle.reranker.components) if bundle is not None and bundle.reranker is not None else set()
        comps = {k: v for k, v in comps.items() if weights.get(k) or k in keep}
        if not comps:  # e.g. every fitted weight on a model that cannot score this user
            comps, weights = {"pop": self._pop_scores(bundle)}, {"pop": 1.0}
        return comps, weights

    @staticmethod
    def _cached(profile, name, bundle):
        """The model's fold-in state for this user, when cached for this bundle version (every model
        alike: cached per user until the next event, keyed on the bundle version, so a swapped-in
        model never meets another model's state)."""
        cached = profile.cache.get(name) if profile else None
        return cached[1] if cached is not None and cached[0] == bundle.version else None

    @staticmethod
    def _cache(profile, name, bundle, state) -> None:
        if profile is not None and state is not None:
            profile.cache[name] = (bundle.version, state)

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="live-model")
            return self._pool

    def _pop_scores(self, bundle) -> np.ndarray:
        if bundle is not None and "pop" in bundle.models:
            return self._to_catalog(bundle.models["pop"].score([]), self._maps[0])
        return self._fallback_pop

    def _to_catalog(self, model_scores: np.ndarray, to_model: np.ndarray | None) -> np.ndarray:
        if to_model is None:
            return np.asarray(model_scores, dtype=np.float32)
        s = np.asarray(model_scores, dtype=np.float32)
        out = np.full(self.n, np.nan, dtype=np.float32)
        ok = to_model >= 0
        out[ok] = s[to_model[ok]]
        return _fill_nan(out)

    def _candidate_rows(self, candidates) -> tuple[np.ndarray, np.ndarray]:
        """Catalog rows and scores of candidate hits (matched by id when they carry one)."""
        rows, scores = [], []
        for c in candidates:
            cid = getattr(c, "id", None)
            r = self.index.get(cid) if cid is not None else getattr(c, "row", None)
            if r is None or not 0 <= int(r) < self.n:
                continue
            rows.append(int(r))
            scores.append(float(getattr(c, "score", 0.0)))
        return np.array(rows, dtype=np.int64), np.array(scores, dtype=np.float32)

    def _cooccurrence_vectors(self, bundle):
        model = bundle.models.get("itemknn") if bundle else None
        return None if model is None or self._maps[0] is not None else _SparseRows(model.similarity)

    def _scored(self, row: int, score: float, values: dict[str, float], hist, htypes,
                support: tuple | None) -> ScoredItem:
        """values: each component's weighted contribution at this row."""
        comps = {name: round(v, 4) for name, v in values.items()}
        evidence: dict[str, str] = {}
        if support is not None:
            j, strength, via = support
            evidence["history_item"] = self.ids[int(hist[j])]
            evidence["history_type"] = htypes[j] if j < len(htypes) else "view"
            evidence["history_via"] = via            # "co_bought" (item-kNN share) or "similar" (cosine)
            evidence["history_support"] = f"{strength:.3f}"
            if via == "co_bought" and comps.get("itemknn", 0) > 0:
                evidence["co_bought"] = self.ids[int(hist[j])]
        f = self.features
        if f.category[row] >= 0:
            evidence["category"] = f.categories[f.category[row]]
        if f.brand[row] >= 0:
            evidence["brand"] = f.brands[f.brand[row]]
        return ScoredItem(row=row, item_id=self.ids[row], score=round(score, 4), components=comps, evidence=evidence)

    def _most_similar_history(self, rows: np.ndarray, hist: np.ndarray, bundle):
        """For each recommended row, the position in `hist` of the event that itself lifted it
        (-1: none strong enough to cite), that event's strength, and how ("co_bought" / "similar").

        The history event with the largest item-kNN contribution, when its share of the row's
        item-kNN score is at least `support_share`; otherwise the most similar history item by
        embedding cosine, when that cosine is at least `support_cosine`."""
        cfg = self.config
        out = np.full(len(rows), -1, dtype=np.int64)
        strength = np.zeros(len(rows), dtype=np.float64)
        via = np.full(len(rows), "", dtype=object)
        if not len(hist) or not len(rows):
            return out, strength, via
        knn = bundle.models.get("itemknn") if bundle else None
        if knn is not None and self._maps[0] is None:
            c = np.maximum(knn.contributions(hist, rows), 0.0)  # (rows, history)
            total = c.sum(axis=1)
            best = np.argmax(c, axis=1)
            share = np.where(total > 0, c[np.arange(len(rows)), best] / np.maximum(total, 1e-12), 0.0)
            ok = share >= cfg.support_share
            out[ok], strength[ok], via[ok] = best[ok], share[ok], "co_bought"
        todo = np.flatnonzero(out < 0)
        if todo.size and self.embeddings is not None:
            sims = self.embeddings[rows[todo]] @ self.embeddings[hist].T
            best = np.argmax(sims, axis=1)
            cos = sims[np.arange(len(todo)), best]
            ok = cos >= cfg.support_cosine
            out[todo[ok]], strength[todo[ok]], via[todo[ok]] = best[ok], cos[ok], "similar"
        return out, strength, via


_BLAS = None


def _one_blas_thread():
    """Context limiting BLAS to one thread (a prepared controller: ~20 us per use)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_nolock = _NoLock()


class _SparseRows:
    """Dense view of rows of a sparse similarity matrix, for MMR without embeddings."""

    def __init__(self, m):
        self.m = m

    def __getitem__(self, rows):
        return self.m[rows].toarray()


def _score_live(model, history, weights, state):
    """(fold-in state, live scores) of one model; state: the cached one or None (fold in now)."""
    if state is None:
        state = model.fold_in(history, weights)
    return state, model.score_live(history, weights, state)


def _fill_nan(x: np.ndarray) -> np.ndarray:
    """Unknown scores -> the row minimum (ranked last but finite)."""
    if np.isnan(x).any():
        lo = np.nanmin(x) if (~np.isnan(x)).any() else 0.0
        x = np.where(np.isnan(x), lo, x)
    return x.astype(np.float32)


def _map_history(hist, hw, to_model):
    m = to_model[hist]
    ok = m >= 0
    return m[ok], hw[ok]


def time_ms(fn, *args, **kwargs) -> tuple[object, float]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, (time.perf_counter() - t) * 1000.0
