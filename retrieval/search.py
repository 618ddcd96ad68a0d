"""Hybrid product search: dense cosine (Chroma ANN, exact rescoring in numpy) fused with BM25.

Per query:
1. candidates = ANN top `n_dense` from Chroma  U  BM25 top `n_lexical` (exact, all products);
2. every candidate gets both components exactly: cosine from `Catalog.embeddings`, BM25 score;
3. fusion (see `fuse_scores`): convex combination of per-query min-max normalised components
   (default, chosen by measurement, see benchmarks/README.md) or reciprocal-rank fusion.
Filters (price range, category, brand, attributes, must-have / excluded terms) are applied in numpy,
never with Chroma `where`. With filters, the ANN over-fetches in proportion to how selective the
filter is; if fewer than k filtered candidates survive, the filtered subset is scored exactly, so a
search returns k hits whenever at least k products match.
"""
from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from retrieval.catalog import Catalog
from retrieval.embedder import Embedder
from retrieval.lexical import LexicalIndex, phrase_key, stem, tokenize
from retrieval import store


class SearchFilters(BaseModel):
    """Hard constraints. Text comparisons ignore case and plural endings."""

    model_config = ConfigDict(extra="forbid")

    min_price: float | None = Field(default=None, ge=0)   # products with unknown price never match a price filter
    max_price: float | None = Field(default=None, ge=0)
    category: str | list[str] | None = None  # any of; matches any level of "A > B" / "A/B" paths
    brand: str | list[str] | None = None     # any of
    must_have: list[str] = Field(default_factory=list)  # every term / phrase must occur in the product text
    exclude: list[str] = Field(default_factory=list)    # no term / phrase may occur in the product text
    attributes: dict[str, str] = Field(default_factory=dict)  # e.g. {"color": "black", "gender": "women"}

    @field_validator("must_have", "exclude", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("category", "brand", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, list):
            value = [v for v in value if isinstance(v, str) and v.strip()] or None
        return value

    @model_validator(mode="after")
    def _range(self) -> "SearchFilters":
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError(f"Expected min_price <= max_price, got {self.min_price} > {self.max_price}")
        return self

    def is_empty(self) -> bool:
        return (self.min_price is None and self.max_price is None and not self.category and not self.brand
                and not self.must_have and not self.exclude and not self.attributes)


@dataclass
class Hit:
    id: str
    row: int                     # row in Catalog.products / Catalog.embeddings
    score: float                 # fused score (higher is better)
    components: dict[str, float]  # {"dense": cosine, "lexical": BM25}
    matched_terms: list[str] = field(default_factory=list)  # query terms found in the product text


@dataclass
class SearchConfig:
    # "convex": dense_weight * minmax(dense) + (1 - dense_weight) * minmax(bm25) over the candidate pool;
    # "rrf": sum of 1 / (rrf_k + rank) over both rankings.
    fusion: str = "convex"
    # Weight of the dense component in convex fusion (measured: 0.5 had the best mean NDCG@10 over
    # three labelled query sets, see benchmarks/README.md).
    dense_weight: float = 0.5
    # RRF constant (only for fusion="rrf").
    rrf_k: int = 60
    # ANN candidates per query without filters.
    n_dense: int = 100
    # BM25 candidates per query.
    n_lexical: int = 100
    # Largest ANN request when over-fetching for a selective filter.
    max_ann: int = 2000
    # Filtered subsets up to this size are scored exactly (no ANN): cheap and always complete.
    exact_below: int = 2000

    def __post_init__(self) -> None:
        if self.fusion not in ("convex", "rrf"):
            raise ValueError(f"Expected fusion to be 'convex' or 'rrf', got {self.fusion!r}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"Expected dense_weight in [0, 1], got {self.dense_weight}")


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    if hi - lo < 1e-9:
        return np.zeros_like(x) if hi <= 0 else np.ones_like(x)
    return (x - lo) / (hi - lo)


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(-x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(1, len(x) + 1)
    return ranks


def fuse_scores(dense: np.ndarray, lexical: np.ndarray, config: SearchConfig) -> np.ndarray:
    """Fused score of each candidate from its two components (pure function)."""
    if len(dense) == 0:
        return np.zeros(0)
    dense = np.asarray(dense, dtype=np.float64)
    lexical = np.asarray(lexical, dtype=np.float64)
    if config.fusion == "rrf":
        fused = 1.0 / (config.rrf_k + _ranks(dense))
        if lexical.max() > 0:
            lex_ranks = _ranks(lexical)
            fused += np.where(lexical > 0, 1.0 / (config.rrf_k + lex_ranks), 0.0)
        return fused
    w = config.dense_weight
    return w * _minmax(dense) + (1.0 - w) * _minmax(lexical)


def _norm_label(text: str) -> str:
    return " ".join(stem(t) for t in tokenize(text))


_PATH_SPLIT = re.compile(r"\s*(?:>|/|\||,|;)\s*")


def _levels(text: str | None) -> set[str]:
    if not text:
        return set()
    out = {_norm_label(text)}
    out.update(_norm_label(part) for part in _PATH_SPLIT.split(text) if part.strip())
    out.discard("")
    return out


class _FilterIndex:
    """Per-catalog arrays for vectorised filters (built once, lazily)."""

    def __init__(self, catalog: Catalog):
        products = catalog.products
        self.n = len(products)
        self.price = np.array([p.price if p.price is not None else np.nan for p in products], dtype=np.float64)
        self.brand = [_norm_label(p.brand) if p.brand else "" for p in products]
        self.title_key = [phrase_key(p.title) for p in products]
        self.category = [
            _levels(p.category) | _levels(p.attributes.get("subcategory")) | _levels(p.attributes.get("breadcrumbs"))
            for p in products
        ]
        self.has_category = np.array([bool(p.category) for p in products])
        self._attr: dict[str, list[set[str]]] = {}
        self._products = products

    def attr_levels(self, key: str) -> list[set[str]]:
        if key not in self._attr:
            self._attr[key] = [_levels(p.attributes.get(key)) for p in self._products]
        return self._attr[key]


class HybridSearcher:
    """Dense + BM25 search over one loaded catalog. Thread-safe after construction."""

    def __init__(self, catalog: Catalog, embedder: Embedder, collection, config: SearchConfig | None = None):
        if embedder.name != catalog.embedder_name:
            raise ValueError(
                f"Expected the catalog's embedder {catalog.embedder_name!r}, got {embedder.name!r}; "
                f"run `shopassist catalog rebuild {catalog.name}`"
            )
        self.catalog = catalog
        self.embedder = embedder
        self.collection = collection
        self.config = config or SearchConfig()
        self.lexical = LexicalIndex(catalog.texts)
        self._filters: _FilterIndex | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_catalog(cls, catalog: Catalog, embedder: Embedder, registry,
                    config: SearchConfig | None = None) -> "HybridSearcher":
        """A searcher over `catalog`, with its Chroma collection from `registry`."""
        return cls(catalog, embedder, registry.collection(catalog), config)

    # -- public API -----------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, filters: SearchFilters | dict | None = None,
               query_vector: np.ndarray | None = None) -> list[Hit]:
        return self.candidate_pool(query, k, filters, query_vector=query_vector)

    def search_batch(self, queries: Sequence[str], k: int = 10,
                     filters: Sequence[SearchFilters | dict | None] | None = None,
                     batch_size: int = 64) -> list[list[Hit]]:
        """Many queries: embedded in batches, one ANN call per batch."""
        queries = list(queries)
        if filters is not None and len(filters) != len(queries):
            raise ValueError(f"Expected one filter per query, got {len(filters)} filters for {len(queries)} queries")
        parsed = [self._parse_filters(f) for f in (filters or [None] * len(queries))]
        out: list[list[Hit]] = []
        for start in range(0, len(queries), batch_size):
            chunk = queries[start:start + batch_size]
            chunk_filters = parsed[start:start + batch_size]
            vectors = self._embed(chunk)
            # One batched ANN call for the unfiltered queries of this chunk.
            plain = [i for i, (q, f) in enumerate(zip(chunk, chunk_filters)) if f is None and q.strip()]
            ann: dict[int, tuple[list[str], np.ndarray]] = {}
            if plain:
                ids, sims = store.query_vectors(self.collection, vectors[plain], max(self.config.n_dense, k),
                                               count=len(self.catalog))
                ann = {i: (ids[j], sims[j]) for j, i in enumerate(plain)}
            for i, (query, flt) in enumerate(zip(chunk, chunk_filters)):
                out.append(self._search(query, vectors[i], k, flt, ann.get(i)))
        return out

    def candidate_pool(self, query: str, n: int, filters: SearchFilters | dict | None = None,
                       query_vector: np.ndarray | None = None) -> list[Hit]:
        """Up to n filtered, fused, sorted hits; exactly n whenever at least n products match."""
        flt = self._parse_filters(filters)
        vector = query_vector if query_vector is not None or not query.strip() else self._embed([query])[0]
        return self._search(query, vector, n, flt, None)

    # -- internals ------------------------------------------------------------------------------
    @staticmethod
    def _parse_filters(filters: SearchFilters | dict | None) -> SearchFilters | None:
        if filters is None:
            return None
        if isinstance(filters, dict):
            filters = SearchFilters(**filters)
        if not isinstance(filters, SearchFilters):
            raise TypeError(f"Expected SearchFilters or dict, got {type(filters).__name__}")
        return None if filters.is_empty() else filters

    def _embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.catalog.embeddings.shape[1]), dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if t.strip()]
        if todo:
            vectors[todo] = self.embedder.embed_queries([texts[i] for i in todo])
        return vectors

    @property
    def filter_index(self) -> _FilterIndex:
        if self._filters is None:
            with self._lock:
                if self._filters is None:
                    self._filters = _FilterIndex(self.catalog)
        return self._filters

    def filter_mask(self, filters: SearchFilters) -> np.ndarray:
        """Boolean mask over all products: which satisfy `filters`."""
        fx = self.filter_index
        mask = np.ones(fx.n, dtype=bool)
        with np.errstate(invalid="ignore"):
            if filters.min_price is not None:
                mask &= fx.price >= filters.min_price  # NaN (unknown price) compares False
            if filters.max_price is not None:
                mask &= fx.price <= filters.max_price
        if filters.brand:
            wanted = [filters.brand] if isinstance(filters.brand, str) else filters.brand
            keys = {_norm_label(b) for b in wanted} - {""}
            phrases = [" " + key + " " for key in keys]
            mask &= np.fromiter(
                (
                    (b in keys) if b else any(fx.title_key[i].startswith(ph) for ph in phrases)
                    for i, b in enumerate(fx.brand)
                ),
                dtype=bool, count=fx.n,
            )
        if filters.category:
            wanted = [filters.category] if isinstance(filters.category, str) else filters.category
            keys = {_norm_label(c) for c in wanted} - {""}
            phrases = [" " + key + " " for key in keys]
            mask &= np.fromiter(
                (
                    bool(levels & keys) or (not fx.has_category[i] and any(ph in fx.title_key[i] for ph in phrases))
                    for i, levels in enumerate(fx.category)
                ),
                dtype=bool, count=fx.n,
            )
        for key, value in filters.attributes.items():
            wanted = {_norm_label(value)}
            if key == "gender" and wanted & {"women", "men", "woman", "man"}:
                wanted.add("unisex")
            levels = fx.attr_levels(key)
            mask &= np.fromiter((bool(lv & wanted) for lv in levels), dtype=bool, count=fx.n)
        for term in filters.must_have:
            key = phrase_key(term)
            if key.strip():
                mask &= self.lexical.mask_contains(key)
        for term in filters.exclude:
            key = phrase_key(term)
            if key.strip():
                mask &= ~self.lexical.mask_contains(key)
        return mask

    def _search(self, query: str, vector: np.ndarray, k: int, filters: SearchFilters | None,
                ann: tuple[list[str], np.ndarray] | None) -> list[Hit]:
        if k <= 0:
            return []
        cfg = self.config
        catalog = self.catalog
        n_total = len(catalog)
        terms = self.lexical.query_terms(query)
        lex_all = self.lexical.scores([s for _, s in terms])
        has_text = bool(query.strip())

        mask = None
        if filters is not None:
            mask = self.filter_mask(filters)
            n_match = int(mask.sum())
            if n_match == 0:
                return []
            if n_match <= max(cfg.exact_below, k):
                return self._exact(np.flatnonzero(mask), vector, lex_all, k, terms, has_text)

        # Candidate pool: ANN (over-fetched in proportion to the filter's selectivity) U BM25 top.
        rows: set[int] = set()
        if has_text:
            if ann is None or mask is not None:
                n_ann = cfg.n_dense
                if mask is not None:
                    n_ann = min(cfg.max_ann, n_total, math.ceil(max(cfg.n_dense, k) * n_total / n_match))
                ids, _ = store.query_vectors(self.collection, vector[None, :], max(n_ann, k), count=n_total)
                ann_ids = ids[0]
            else:
                ann_ids = ann[0]
            index = catalog.index
            rows.update(index[i] for i in ann_ids if i in index)
        lex_masked = lex_all if mask is None else np.where(mask, lex_all, 0.0)
        n_lex = min(cfg.n_lexical, n_total)
        if lex_masked.max() > 0:
            top = np.argpartition(-lex_masked, n_lex - 1)[:n_lex] if n_lex < n_total else np.arange(n_total)
            rows.update(int(r) for r in top if lex_masked[r] > 0)
        if mask is not None:
            rows = {r for r in rows if mask[r]}
            if len(rows) < k:  # the ANN over-fetch missed: score the whole filtered subset exactly
                return self._exact(np.flatnonzero(mask), vector, lex_all, k, terms, has_text)
        elif len(rows) < k:
            return self._exact(np.arange(n_total), vector, lex_all, k, terms, has_text)
        return self._rank(np.fromiter(rows, dtype=np.int64), vector, lex_all, k, terms, has_text)

    def _exact(self, rows: np.ndarray, vector, lex_all, k, terms, has_text) -> list[Hit]:
        return self._rank(rows, vector, lex_all, k, terms, has_text)

    def _rank(self, rows: np.ndarray, vector: np.ndarray, lex_all: np.ndarray, k: int,
              terms: list[tuple[str, str]], has_text: bool) -> list[Hit]:
        rows = np.sort(rows)  # deterministic tie order: catalog order
        dense = self.catalog.embeddings[rows] @ vector if has_text else np.zeros(len(rows), np.float32)
        lexical = lex_all[rows]
        fused = fuse_scores(dense, lexical, self.config)
        if not has_text:  # no query text (filters only): best-rated first, then catalog order
            ratings = np.array([self.catalog.products[r].rating or 0.0 for r in rows])
            fused = ratings / 5.0
        kk = min(k, len(rows))
        top = np.argpartition(-fused, kk - 1)[:kk] if kk < len(rows) else np.arange(len(rows))
        top = top[np.lexsort((rows[top], -fused[top]))]
        hits = []
        for j in top:
            row = int(rows[j])
            doc = self.lexical.doc_keys[row]
            hits.append(Hit(
                id=self.catalog.ids[row], row=row, score=float(fused[j]),
                components={"dense": float(dense[j]), "lexical": float(lexical[j])},
                matched_terms=[surface for surface, s in terms if f" {s} " in doc],
            ))
        return hits
