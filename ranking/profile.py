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

import functools
import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .events import OWNED_TYPES, Event, event_weight


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


# must_have / exclude masks kept per CatalogFeatures (LRU of lower-cased terms; n bytes a mask)
TERM_MASK_CACHE = 256


class CatalogFeatures:
    """Arrays over catalog rows: price, price band, category / brand codes (-1 = unknown)."""

    def __init__(self, catalog, price_bands: int = 5):
        products = list(getattr(catalog, "products", None) or [catalog.get(i) for i in catalog.ids])
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
        texts = []
        for p in products:
            fn = getattr(p, "search_text", None)
            texts.append((fn() if callable(fn) else f"{getattr(p, 'title', '')} {getattr(p, 'description', '')}").lower())
        self.text = texts
        # The texts never change after construction (a new catalog gets new features), so each
        # must_have / exclude term is looked for in every text once, not on every filtered query.
        self._term_masks = functools.lru_cache(maxsize=TERM_MASK_CACHE)(self._contains)

    def _contains(self, term: str) -> np.ndarray:
        """Read-only mask: `term` (lower case) is a substring of the item's text."""
        mask = np.array([term in x for x in self.text], dtype=bool)
        mask.flags.writeable = False
        return mask

    @property
    def has_fields(self) -> bool:
        return bool(len(self.categories) or len(self.brands) or self.band_edges.size)

    def filter_mask(self, filters) -> np.ndarray:
        """Boolean mask of items passing `filters` (retrieval.search.SearchFilters, a dict, or
        None): min_price / max_price (items without a price fail a price filter), category and
        brand (case-insensitive; category matches as a substring), must_have / exclude terms."""
        mask = np.ones(self.n, dtype=bool)
        if filters is None:
            return mask
        get = (lambda k: filters.get(k)) if isinstance(filters, dict) else (lambda k: getattr(filters, k, None))
        lo, hi = get("min_price"), get("max_price")
        if lo is not None:
            mask &= np.nan_to_num(self.price, nan=-np.inf) >= float(lo)
        if hi is not None:
            mask &= np.nan_to_num(self.price, nan=np.inf) <= float(hi)
        cat = get("category")
        if cat:
            ok = np.array([cat.lower() in c.lower() for c in self.categories], dtype=bool)
            mask &= (self.category >= 0) & ok[np.maximum(self.category, 0)] if len(ok) else False
        brand = get("brand")
        if brand:
            ok = np.array([brand.lower() == b.lower() for b in self.brands], dtype=bool)
            mask &= (self.brand >= 0) & ok[np.maximum(self.brand, 0)] if len(ok) else False
        for term in get("must_have") or []:
            mask &= self._term_masks(term.lower())
        for term in get("exclude") or []:
            mask &= ~self._term_masks(term.lower())
        return mask


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
    """Thread-safe map user_id -> UserProfile."""

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

    def drop(self, user_id: str) -> bool:
        with self._lock:
            return self._profiles.pop(user_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._profiles.clear()

    def __len__(self) -> int:
        return len(self._profiles)
