"""A learned second stage over the linear fusion: LightGBM lambdarank on its top candidates.

The linear fusion (fusion.py) adds z-scored components with one weight each, for every shopper
alike. It cannot say "trust the sequential model more after a long session" or "an item of the
brand the shopper just viewed is worth more when the co-purchase signal agrees". A re-ranker
learns such interactions from the fusion's own top `depth` candidates: the two-stage design of
industrial recommenders (candidate generation, then a ranker: Covington et al., RecSys 2016), with
a LambdaMART ranker (Burges, MSR-TR-2010-82) through LightGBM's `lambdarank` objective, which
optimises NDCG directly.

Training uses validation targets only (the same users and split the fusion weights are fitted
on; a held-out share of them stops the boosting), so the test item is never seen. Features of a
(shopper, candidate) pair are facts the system already computes:
- each component's z-score (pop, itemknn, als, content, sasrec, ...), the fused score and rank;
- brand / category match with the last history item and with any history item, a parent
  category match (first three levels of the path), the share of the history in the last brand;
- embedding cosine with the last history item and the best over the history;
- the history length.
An item outside the pool keeps its fusion order below the pool. `candidate_features` is the one
feature function for the offline harness, `shopassist train` and the live service alike.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np

from .fusion import NEG, fuse, top_rows, zscore
from .profile import CatalogFeatures, _codes

CONTEXT_FEATURES = ("fused", "fused_rank", "same_brand_last", "brand_in_history", "same_category_last",
                    "category_in_history", "same_parent_last", "cosine_last", "cosine_max", "history_len",
                    "last_brand_share")


@dataclass
class RerankConfig:
    # Candidates re-ranked per shopper: the fusion's top `depth` (history excluded).
    depth: int = 100
    # Boosting: at most this many trees, stopped when the held-out validation NDCG@10 has not
    # improved for `early_stopping` rounds.
    max_trees: int = 1000
    early_stopping: int = 50
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_data_in_leaf: int = 100
    # Share of the training shoppers held out for early stopping.
    holdout: float = 0.2
    # Fewer shoppers than this with their target in the pool: no re-ranker (the fusion alone).
    min_users: int = 100
    threads: int = 2
    seed: int = 1

    def __post_init__(self) -> None:
        if int(self.depth) < 2:
            raise ValueError(f"Expected a re-rank depth of at least 2 candidates, got {self.depth}")
        if not 0.0 < float(self.holdout) < 1.0:
            raise ValueError(f"Expected a holdout share strictly between 0 and 1, got {self.holdout}")


class ItemSide:
    """Per item row: brand, category and parent-category codes (-1 = unknown) and unit embeddings."""

    def __init__(self, brand: np.ndarray, category: np.ndarray, parent: np.ndarray, embeddings: np.ndarray | None):
        self.brand = np.asarray(brand, dtype=np.int64)
        self.category = np.asarray(category, dtype=np.int64)
        self.parent = np.asarray(parent, dtype=np.int64)
        if embeddings is not None:   # catalog / embedder vectors are unit already: no second copy then
            e = np.asarray(embeddings, dtype=np.float32)
            norms = np.linalg.norm(e, axis=1, keepdims=True)
            embeddings = e if np.allclose(norms, 1.0, atol=1e-3) else e / np.maximum(norms, 1e-12)
        self.embeddings = embeddings

    @classmethod
    def from_features(cls, features: CatalogFeatures, embeddings: np.ndarray | None, levels: int = 3) -> "ItemSide":
        """From the catalog's own codes (profile.CatalogFeatures); parent = the first `levels` of
        the category path ("Beauty > Makeup > Nails")."""
        _, parent_of = _codes([" > ".join(part.strip() for part in c.split(">")[:levels]) for c in features.categories])
        parent = np.full(len(features.category), -1, dtype=np.int64)
        known = features.category >= 0
        parent[known] = parent_of[features.category[known]]
        return cls(features.brand, features.category, parent, embeddings)


def candidate_features(z: Sequence[np.ndarray], fused: np.ndarray, pool: np.ndarray, history: np.ndarray,
                       items: ItemSide) -> np.ndarray:
    """(len(pool), n_components + len(CONTEXT_FEATURES)) float32 features of one shopper's pool.

    z: each component's z-scores over all items (same order as the re-ranker's components);
    fused: the fused score over all items; pool: candidate rows, best fused first; history: the
    shopper's item rows, oldest first (non-empty)."""
    pool = np.asarray(pool, dtype=np.int64)
    h = np.asarray(history, dtype=np.int64)
    n = len(pool)
    last = h[-1]
    brand, cat, parent = items.brand, items.category, items.parent
    bp, bl = brand[pool], brand[last]
    hb = brand[h]
    cp, cl = cat[pool], cat[last]
    cols = [zc[pool] for zc in z]
    cols += [fused[pool], np.arange(n, dtype=np.float32),
             (bp == bl) & (bl >= 0), np.isin(bp, hb[hb >= 0]),
             (cp == cl) & (cl >= 0), np.isin(cp, cat[h][cat[h] >= 0]),
             (parent[pool] == parent[last]) & (parent[last] >= 0)]
    if items.embeddings is not None:
        e = items.embeddings
        sims = e[pool] @ e[h].T
        cols += [sims[:, -1], sims.max(axis=1)]
    else:
        cols += [np.zeros(n), np.zeros(n)]
    share = float((hb == bl).mean()) if bl >= 0 else 0.0
    cols += [np.full(n, len(h)), np.full(n, share)]
    return np.stack([np.asarray(c, dtype=np.float32) for c in cols], axis=1)


def pool_features(z: Sequence[np.ndarray], scores: np.ndarray, history: np.ndarray, items: ItemSide,
                  depth: int) -> tuple[np.ndarray, np.ndarray]:
    """One shopper's pool (the top `depth` finite rows of `scores`, best first) and its features."""
    pool = top_rows(scores, depth)
    return pool, candidate_features(z, scores, pool, history, items)


class Reranker:
    """A fitted LightGBM lambdarank model over the fusion's top candidates."""

    def __init__(self, booster: lgb.Booster, components: Sequence[str], weights: Mapping[str, float],
                 config: RerankConfig, info: dict | None = None):
        self.booster = booster
        self.components = list(components)
        self.weights = {k: float(v) for k, v in weights.items()}   # the fusion weights it was trained over
        self.config = config
        self.info = dict(info or {})

    @property
    def feature_names(self) -> list[str]:
        return [f"z_{c}" for c in self.components] + list(CONTEXT_FEATURES)

    def predict(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0, dtype=np.float64)
        return self.booster.predict(features, num_threads=1)

    def rerank(self, z: Mapping[str, np.ndarray], scores: np.ndarray, history: np.ndarray, items: ItemSide,
               depth: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One shopper: (pool rows, re-ranker scores) for the top `depth` finite rows of `scores`
        (the fused scores after exclusions and filters; best first). z: component -> z-scores."""
        pool, feats = pool_features([z[c] for c in self.components], np.asarray(scores), history, items,
                                    depth or self.config.depth)
        return pool, self.predict(feats)

    # Persistence ---------------------------------------------------------------------------
    def save(self, path: Path | str) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(path / "model.txt"))
        meta = {"components": self.components, "weights": self.weights, "config": asdict(self.config),
                "features": self.feature_names, "info": self.info}
        (path / "reranker.json").write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, path: Path | str) -> "Reranker":
        path = Path(path)
        meta = json.loads((path / "reranker.json").read_text())
        booster = lgb.Booster(model_file=str(path / "model.txt"))
        return cls(booster, meta["components"], meta["weights"], RerankConfig(**meta["config"]), meta.get("info"))


# Offline: pools from batches of shoppers -----------------------------------------------------
def batch_pools(z: Mapping[str, np.ndarray], fused: np.ndarray, components: Sequence[str],
                histories: Sequence[Sequence[int]], targets: np.ndarray | None, items: ItemSide, depth: int):
    """For a batch (z: component -> (B, n_items) z-scores; fused: (B, n_items), their fusion with the
    re-ranker's weights): per shopper its pool (the top `depth` of the fused scores with the earlier
    history removed, the target never; best first), the features, and the target's 0-based linear
    rank (pessimistic ties; None without targets)."""
    out = []
    for b, hist in enumerate(histories):
        f = np.array(fused[b], dtype=np.float32, copy=True)
        h = np.asarray(hist, dtype=np.int64)
        ex = h if targets is None else h[h != targets[b]]
        f[ex] = NEG
        pool, feats = pool_features([z[c][b] for c in components], f, h, items, depth)
        rank = None if targets is None else int((f >= f[targets[b]]).sum() - 1)
        out.append((pool, feats, rank))
    return out


def fit_reranker(score_batch: Callable[[slice], Mapping[str, np.ndarray]],
                 weights: Mapping[str, float], histories: Sequence[Sequence[int]], targets: np.ndarray,
                 items: ItemSide, config: RerankConfig | None = None, batch: int = 512,
                 progress: Callable[[str], None] | None = None) -> tuple[Reranker | None, str]:
    """Fit on shoppers (histories -> validation targets). score_batch(sl) -> component ->
    (B, n_items) raw scores of the shoppers histories[sl]. Returns (re-ranker, note); (None, reason) when too few shoppers have
    their target in the pool."""
    config = config or RerankConfig()
    say = progress or (lambda _m: None)
    t0 = time.time()
    X, y, groups, components = [], [], [], None
    in_pool = 0
    for s in range(0, len(targets), batch):
        h, tg = histories[s : s + batch], np.asarray(targets[s : s + batch])
        raw = score_batch(slice(s, s + batch))
        components = components or list(raw)
        z = {c: zscore(raw[c]) for c in components}
        fused = fuse(z, weights, normalise=False)
        for (pool, feats, _rank), t in zip(batch_pools(z, fused, components, h, tg, items, config.depth), tg):
            label = (pool == t).astype(np.int32)
            if label.any():   # a pool without the target gives lambdarank no gradient
                X.append(feats); y.append(label); groups.append(len(pool))  # noqa: E702
                in_pool += 1
    if in_pool < config.min_users:
        return None, (f"skipped: {in_pool} of {len(targets)} validation shoppers have their target in the "
                      f"fusion's top {config.depth} (needs {config.min_users})")
    build_s = time.time() - t0
    n_fit = max(1, int(round(len(groups) * (1 - config.holdout))))
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(groups))
    fit_g, stop_g = np.sort(order[:n_fit]), np.sort(order[n_fit:])

    def dataset(idx, reference=None):
        return lgb.Dataset(np.concatenate([X[i] for i in idx]), np.concatenate([y[i] for i in idx]),
                           group=[groups[i] for i in idx], feature_name=names, reference=reference,
                           free_raw_data=True)

    names = [f"z_{c}" for c in components] + list(CONTEXT_FEATURES)
    train_set = dataset(fit_g)
    valid_set = dataset(stop_g, reference=train_set) if len(stop_g) else None
    params = dict(objective="lambdarank", metric="ndcg", ndcg_eval_at=[10], learning_rate=config.learning_rate,
                  num_leaves=config.num_leaves, min_data_in_leaf=config.min_data_in_leaf, feature_fraction=0.9,
                  bagging_fraction=0.8, bagging_freq=1, lambdarank_truncation_level=20,
                  num_threads=config.threads, seed=config.seed, deterministic=True, verbose=-1)
    callbacks = [lgb.early_stopping(config.early_stopping, verbose=False)] if valid_set is not None else []
    booster = lgb.train(params, train_set, config.max_trees, valid_sets=[valid_set] if valid_set else None,
                        callbacks=callbacks)
    best = booster.best_iteration or booster.current_iteration()
    held_out = booster.best_score
    booster = booster if best == booster.current_iteration() else lgb.Booster(
        model_str=booster.model_to_string(num_iteration=best))
    fit_s = time.time() - t0 - build_s
    held = dict(held_out).get("valid_0", {}).get("ndcg@10")   # NDCG@10 within the held-out pools
    info = {"shoppers": int(len(targets)), "with_target_in_pool": in_pool, "trees": int(best),
            "holdout_ndcg@10": round(float(held), 5) if held is not None else None,
            "features_seconds": round(build_s, 1), "fit_seconds": round(fit_s, 1)}
    note = (f"LightGBM lambdarank over the fusion's top {config.depth}: {in_pool:,} of {len(targets):,} validation "
            f"shoppers with the target in the pool, {best} trees (features {build_s:.0f}s, fit {fit_s:.0f}s)")
    say("rerank: " + note)
    return Reranker(booster, components, weights, config, info), note
