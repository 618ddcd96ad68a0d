"""Live per-user state, updated on every event in O(embedding dim).

A profile holds the recent session sequence (rows, event types, confidences, times), the items
the shopper owns (purchased / rated), a time-decayed interest vector over item embeddings, and
time-decayed affinities to the catalog's categories, brands and price bands (where the catalog
has them). `CatalogFeatures` turns the catalog's product fields into arrays once, so filters and
affinities are vectorised.

The catalog is duck-typed: `ids`, `index` (id -> row), `embeddings` ((n, d) float32, may be
None) and `get(id)` / `products` with `.price`, `.category`, `.brand` (retrieval.catalog.Catalog).
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from retrieval.filters import filter_index

from .events import OWNED_TYPES, Event, event_weight
from .servers import redis_state


@dataclass
class ProfileConfig:
    # Events of the live sequence kept per user (the models read the most recent ones).
    session_len: int = 200
    # Interest vector and affinities halve every this many hours between events.
    half_life_hours: float = 72.0
    # ... and the interest vector also halves every this many newer events (the session's latest
    # items lead; 1 measured best for the content model on Amazon Beauty validation).
    interest_event_half_life: float = 1.0
    # Price bands (quantiles of the catalog's prices) for the price-band affinity.
    price_bands: int = 5


class CatalogFeatures:
    """Arrays over catalog rows: price, price band, category / brand codes (-1 = unknown)."""

    def __init__(self, catalog, price_bands: int = 5):
        products = list(getattr(catalog, "products", None) or [catalog.get(i) for i in catalog.ids])
        self._catalog = catalog
        self._filter_index = None
        self.n = len(products)
        self.price = np.array([_num(getattr(p, "price", None)) for p in products], dtype=np.float64)
        self.categories, self.category = _codes([getattr(p, "category", None) for p in products])
        self.brands, self.brand = _codes([getattr(p, "brand", None) for p in products])
        known = self.price[np.isfinite(self.price)]
        self.band = np.full(self.n, -1, dtype=np.int64)
        if known.size >= price_bands:
            self.band_edges = np.quantile(known, np.linspace(0, 1, price_bands + 1)[1:-1])
            ok = np.isfinite(self.price)
            self.band[ok] = np.searchsorted(self.band_edges, self.price[ok], side="right")
        else:
            self.band_edges = np.zeros(0)
        self.n_bands = price_bands
        self.titles = [str(getattr(p, "title", "") or "") for p in products]

    @property
    def has_fields(self) -> bool:
        return bool(len(self.categories) or len(self.brands) or self.band_edges.size)

    def filter_mask(self, filters) -> np.ndarray:
        """Boolean mask of items passing `filters` (retrieval.filters.SearchFilters, a dict, or None):
        the one filter engine that search and chat use too (retrieval.filters)."""
        if filters is None:
            return np.ones(self.n, dtype=bool)
        return self.filter_index.mask(filters)

    @property
    def filter_index(self):
        """The catalog's retrieval.filters.FilterIndex (shared with search when the catalog is the same object)."""
        if self._filter_index is None:
            self._filter_index = filter_index(self._catalog)
        return self._filter_index


def _num(x) -> float:
    try:
        v = float(x)
        return v if np.isfinite(v) else np.nan
    except (TypeError, ValueError):
        return np.nan


def _codes(values) -> tuple[list[str], np.ndarray]:
    """(display names, code per item); values equal ignoring case share a code (-1 = none)."""
    names: dict[str, int] = {}
    display: list[str] = []
    codes = np.full(len(values), -1, dtype=np.int64)
    for i, v in enumerate(values):
        if v is None or not str(v).strip():
            continue
        key = str(v).strip().lower()
        if key not in names:
            names[key] = len(display)
            display.append(str(v).strip())
        codes[i] = names[key]
    return display, codes


@dataclass
class UserProfile:
    user_id: str
    rows: deque = field(default_factory=deque)  # recent catalog rows, oldest first
    types: deque = field(default_factory=deque)
    weights: deque = field(default_factory=deque)  # event confidences
    times: deque = field(default_factory=deque)
    owned: set = field(default_factory=set)  # rows purchased / rated
    interest: np.ndarray | None = None  # un-normalised, time-decayed sum of embeddings
    category_aff: dict = field(default_factory=dict)  # code -> decayed weight
    brand_aff: dict = field(default_factory=dict)
    band_aff: dict = field(default_factory=dict)
    queries: deque = field(default_factory=lambda: deque(maxlen=10))  # recent search texts
    last_time: float | None = None
    n_events: int = 0
    watermark: tuple[int, int] = (0, 0)  # (event count, max seq) in the store when last synced
    cache: dict = field(default_factory=dict)  # model name -> (bundle version, fold-in state); cleared on events
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def history(self) -> tuple[np.ndarray, np.ndarray]:
        return np.fromiter(self.rows, dtype=np.int64, count=len(self.rows)), np.fromiter(
            self.weights, dtype=np.float64, count=len(self.weights))

    def apply(self, event: Event, row: int | None, embeddings: np.ndarray | None,
              features: CatalogFeatures | None, config: ProfileConfig) -> None:
        """Fold one event in (caller holds `lock`). row: the event item's catalog row or None."""
        self.n_events += 1
        self.cache.clear()
        if event.type == "search":
            if isinstance(event.value, str):
                self.queries.append(event.value)
        if row is None:
            return
        w = event_weight(event.type, event.value)
        decay = 1.0
        if self.last_time is not None and config.half_life_hours > 0:
            dt_h = max(0.0, event.timestamp - self.last_time) / 3600.0
            decay = 0.5 ** (dt_h / config.half_life_hours)
        self.last_time = event.timestamp if self.last_time is None else max(self.last_time, event.timestamp)
        self.rows.append(int(row))
        self.types.append(event.type)
        self.weights.append(w)
        self.times.append(event.timestamp)
        while len(self.rows) > config.session_len:
            for d in (self.rows, self.types, self.weights, self.times):
                d.popleft()
        if event.type in OWNED_TYPES:
            self.owned.add(int(row))
        if embeddings is not None:
            e = embeddings[row].astype(np.float64)
            step = 0.5 ** (1.0 / config.interest_event_half_life) if config.interest_event_half_life > 0 else 1.0
            self.interest = e * w if self.interest is None else self.interest * decay * step + e * w
        if features is not None:
            for aff, code in ((self.category_aff, features.category[row]), (self.brand_aff, features.brand[row]),
                              (self.band_aff, features.band[row])):
                for key in aff:
                    aff[key] *= decay
                if code >= 0:
                    aff[int(code)] = aff.get(int(code), 0.0) + w

    def interest_unit(self) -> np.ndarray | None:
        if self.interest is None:
            return None
        n = np.linalg.norm(self.interest)
        return (self.interest / n).astype(np.float32) if n > 0 else None

    def affinity_scores(self, features: CatalogFeatures) -> np.ndarray | None:
        """Per item: the user's normalised affinity to its category + brand + price band."""
        if not (self.category_aff or self.brand_aff or self.band_aff):
            return None
        out = np.zeros(features.n, dtype=np.float64)
        for aff, codes in ((self.category_aff, features.category), (self.brand_aff, features.brand),
                           (self.band_aff, features.band)):
            if not aff:
                continue
            total = sum(aff.values())
            table = np.zeros(max(max(aff) + 1, int(codes.max()) + 1 if codes.size else 1))
            for code, v in aff.items():
                table[code] = v / total
            known = codes >= 0
            out[known] += table[codes[known]]
        return out.astype(np.float32)

    def summary(self, ids: list[str], features: CatalogFeatures | None = None, n: int = 5) -> dict:
        """A JSON-able view for explanations and debugging."""
        top = lambda aff, names: [names[c] for c, _ in sorted(aff.items(), key=lambda kv: -kv[1])[:3]]  # noqa: E731
        out = {
            "user_id": self.user_id,
            "n_events": self.n_events,
            "recent": [{"item_id": ids[r], "type": t} for r, t in list(zip(self.rows, self.types))[-n:]],
            "owned": len(self.owned),
            "queries": list(self.queries),
        }
        if features is not None:
            out["top_categories"] = top(self.category_aff, features.categories)
            out["top_brands"] = top(self.brand_aff, features.brands)
            out["price_bands"] = sorted(self.band_aff, key=lambda c: -self.band_aff[c])[:2]
        return out


class ProfileStore:
    """Thread-safe map user_id -> UserProfile (in this process; RedisProfileStore shares them)."""

    def __init__(self):
        self._profiles: dict[str, UserProfile] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> UserProfile | None:
        return self._profiles.get(user_id)

    def get_or_create(self, user_id: str) -> tuple[UserProfile, bool]:
        with self._lock:
            p = self._profiles.get(user_id)
            if p is None:
                p = self._profiles[user_id] = UserProfile(user_id)
                return p, True
            return p, False

    def save(self, profile: UserProfile) -> None:
        """Nothing to do: the profile object is the stored one (RedisProfileStore writes it back)."""

    def drop(self, user_id: str) -> bool:
        with self._lock:
            return self._profiles.pop(user_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._profiles.clear()

    def __len__(self) -> int:
        return len(self._profiles)


# ------------------------------------------------------------------------------ shared state (Redis)
PROFILE_STATE_VERSION = 1


def profile_to_state(p: UserProfile) -> dict:
    """A JSON-able copy of the profile (the per-model cache is left out: it is recomputed)."""
    import base64

    return {
        "v": PROFILE_STATE_VERSION, "user_id": p.user_id, "rows": list(p.rows), "types": list(p.types),
        "weights": list(p.weights), "times": list(p.times), "owned": sorted(p.owned),
        "interest": None if p.interest is None else base64.b64encode(
            np.ascontiguousarray(p.interest, dtype=np.float64).tobytes()).decode("ascii"),
        "category_aff": {str(k): v for k, v in p.category_aff.items()},
        "brand_aff": {str(k): v for k, v in p.brand_aff.items()},
        "band_aff": {str(k): v for k, v in p.band_aff.items()},
        "queries": list(p.queries), "last_time": p.last_time, "n_events": p.n_events,
        "watermark": list(p.watermark),
    }


def profile_from_state(state: dict) -> UserProfile:
    import base64

    if state.get("v") != PROFILE_STATE_VERSION:
        raise ValueError(f"Expected a profile state of version {PROFILE_STATE_VERSION}, got {state.get('v')!r}")
    p = UserProfile(state["user_id"])
    p.rows, p.types = deque(state["rows"]), deque(state["types"])
    p.weights, p.times = deque(state["weights"]), deque(state["times"])
    p.owned = set(state["owned"])
    if state["interest"] is not None:
        p.interest = np.frombuffer(base64.b64decode(state["interest"]), dtype=np.float64).copy()
    for name in ("category_aff", "brand_aff", "band_aff"):
        setattr(p, name, {int(k): float(v) for k, v in state[name].items()})
    p.queries = deque(state["queries"], maxlen=10)
    p.last_time, p.n_events = state["last_time"], int(state["n_events"])
    p.watermark = (int(state["watermark"][0]), int(state["watermark"][1]))
    return p


class RedisProfileStore:
    """Live profiles in Redis (`SHOPASSIST_REDIS_URL`), shared by every worker: the ProfileStore
    interface plus `save`. One hash per shopper, `shopassist:profile:<user_id>`, one field per
    catalog (a forget is one DEL), expiring after `ttl_s` without use (a profile is rebuilt from the
    event store when missing). Each get returns a fresh copy; the service checks it against the
    event store's watermark before use, so a copy saved by a slower worker is corrected on read."""

    PREFIX = "shopassist:profile:"

    def __init__(self, url: str, catalog: str, ttl_s: float = 30 * 86400, store: str = ""):
        # store: the event store the profiles were computed from (its location); part of the field,
        # so a profile is never read against another store's watermarks
        self.state = redis_state(url)
        self.catalog = f"{catalog}|{store}" if store else catalog
        self.ttl_s = int(ttl_s)

    def _key(self, user_id: str) -> str:
        return self.PREFIX + user_id

    def get(self, user_id: str) -> UserProfile | None:
        import json

        raw = self.state.call(lambda r: r.hget(self._key(user_id), self.catalog))
        return None if raw is None else profile_from_state(json.loads(raw))

    def get_or_create(self, user_id: str) -> tuple[UserProfile, bool]:
        p = self.get(user_id)
        return (p, False) if p is not None else (UserProfile(user_id), True)

    def save(self, p: UserProfile) -> None:
        import json

        blob = json.dumps(profile_to_state(p), separators=(",", ":"))
        key = self._key(p.user_id)

        def write(r):
            with r.pipeline(transaction=True) as pipe:
                pipe.hset(key, self.catalog, blob)
                pipe.expire(key, self.ttl_s)
                pipe.execute()

        self.state.call(write)

    def drop(self, user_id: str) -> bool:
        return bool(self.state.call(lambda r: r.delete(self._key(user_id))))

    def clear(self) -> None:
        raise NotImplementedError("RedisProfileStore.clear would erase every worker's profiles; drop users one by one")

    def __len__(self) -> int:
        """Shoppers with a profile in Redis (all catalogs; SCAN, for tests and stats only)."""
        return sum(1 for _ in self.state.client.scan_iter(match=self.PREFIX + "*", count=1000))
