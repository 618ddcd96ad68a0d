"""Hybrid product search: dense cosine (Chroma ANN, exact rescoring in numpy) fused with BM25.

Per query:
1. candidates = ANN top `n_dense` from Chroma  U  BM25 top `n_lexical` (exact, all products);
2. every candidate gets both components exactly: cosine from `Catalog.embeddings`, BM25 score;
3. fusion (see `fuse_scores`): convex combination of per-query min-max normalised components
   (default, chosen by measurement, see benchmarks/README.md) or reciprocal-rank fusion; the dense
   weight is higher when no candidate holds every query word (the lexical side cannot see the whole
   query: a typo, a synonym); then bonuses for the idf-weighted share of the query a product holds
   (coverage), for the query's adjacent word pairs found side by side (phrase) and for the product
   type the query names (see `bonus_scores`).
Filters (retrieval.filters, the one filter engine: price, brand, type, colour, audience, terms ...)
are applied in numpy, never with Chroma `where`. With filters, the choice is by cost: a small filtered
subset (`exact_below`) is scored exactly; a larger one within `exact_dense_budget` multiply-adds takes
its dense candidates from one exact matrix-vector product over the subset; only a filter keeping most
of the catalog uses the ANN, over-fetched in proportion to how selective the filter is; if fewer than
k filtered candidates survive, the filtered subset is scored exactly, so a search returns k hits
whenever at least k products match.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from retrieval.catalog import Catalog
from retrieval.embedder import CJK, Embedder
from retrieval.filters import FilterIndex, SearchFilters, as_filters, filter_index
from retrieval.lexical import LexicalIndex
from retrieval import store


@dataclass
class Hit:
    id: str
    row: int                     # row in Catalog.products / Catalog.embeddings
    score: float                 # fused score (higher is better)
    components: dict[str, float]  # {"dense": cosine, "lexical": BM25, "coverage", "phrase", "type": 0..1}
    matched_terms: list[str] = field(default_factory=list)  # query terms found in the product text


@dataclass
class SearchConfig:
    # "convex": dense_weight * minmax(dense) + (1 - dense_weight) * minmax(bm25) over the candidate pool;
    # "rrf": sum of 1 / (rrf_k + rank) over both rankings.
    fusion: str = "convex"
    # The weights below were fitted on half A of the Home Depot development split (real graded
    # shopper queries) and checked on the untouched half B (benchmarks/README.md, `bench_relevance.py fit`).
    # Weight of the dense component in convex fusion when some candidate holds every query word.
    dense_weight: float = 0.2
    # ... and when none does (a typo left unrepaired, a synonym, a word the catalog never uses):
    # the lexical side misses part of the query, the dense side is trusted more. None = dense_weight.
    dense_weight_partial: float | None = 0.6
    # Added per unit of the idf-weighted share of the query words a product holds (0..1).
    coverage_weight: float = 1.5
    # Added per unit of the share of the query's adjacent word pairs the product has side by side.
    phrase_weight: float = 0.05
    # Added to the fused score of products whose type word is the one the query names
    # ("kohler toilet seat" -> seat).
    type_weight: float = 0.05
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
    # Larger filtered subsets up to this many multiply-adds (rows x embedding dimension: 20M is
    # ~52,000 rows of 384 dims) take their dense candidates, the filtered top `n_dense` by cosine,
    # from one exact matrix-vector product over the subset instead of the over-fetched ANN: below
    # it the product is cheaper than an HNSW query for up to `max_ann` neighbours (~7 vs ~50 ms at
    # 100k products, benchmarks/README.md "How cost grows"), and exact (the ANN's best case). Above
    # it the filter keeps so much of the catalog that the ANN needs little over-fetch. 0 = never.
    exact_dense_budget: int = 20_000_000

    def __post_init__(self) -> None:
        if self.fusion not in ("convex", "rrf"):
            raise ValueError(f"Expected fusion to be 'convex' or 'rrf', got {self.fusion!r}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"Expected dense_weight in [0, 1], got {self.dense_weight}")
        if self.dense_weight_partial is not None and not 0.0 <= self.dense_weight_partial <= 1.0:
            raise ValueError(f"Expected dense_weight_partial in [0, 1] or None, got {self.dense_weight_partial}")
        for name in ("type_weight", "coverage_weight", "phrase_weight"):
            value = getattr(self, name)
            if not 0.0 <= value <= 5.0:
                raise ValueError(f"Expected {name} in [0, 5], got {value}")


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


def fuse_scores(dense: np.ndarray, lexical: np.ndarray, config: SearchConfig,
                coverage: np.ndarray | None = None) -> np.ndarray:
    """Fused score of each candidate from its two components (pure function). `coverage`: each
    candidate's share of the query words (LexicalIndex.coverage); when no candidate reaches 1,
    convex fusion uses `dense_weight_partial`."""
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
    if config.dense_weight_partial is not None and coverage is not None and len(coverage) \
            and float(np.max(coverage)) < FULL_COVERAGE:
        w = config.dense_weight_partial
    return w * _minmax(dense) + (1.0 - w) * _minmax(lexical)


FULL_COVERAGE = 0.999   # a candidate holding every query word (float sums of idf weights)


def bonus_scores(coverage: np.ndarray, phrase: np.ndarray, type_match: np.ndarray | None,
                 config: SearchConfig) -> np.ndarray:
    """What is added to the fused score (pure function): coverage, phrase and type, each 0..1, weighted."""
    out = config.coverage_weight * np.asarray(coverage, dtype=np.float64) \
        + config.phrase_weight * np.asarray(phrase, dtype=np.float64)
    if type_match is not None:
        out = out + config.type_weight * type_match
    return out


class HybridSearcher:
    """Dense + BM25 search over one loaded catalog. Thread-safe after construction."""

    def __init__(self, catalog: Catalog, embedder: Embedder, collection, config: SearchConfig | None = None,
                 multilingual: Embedder | None = None):
        if embedder.name != catalog.embedder_name:
            raise ValueError(
                f"Expected the catalog's embedder {catalog.embedder_name!r}, got {embedder.name!r}; "
                f"run `shopassist catalog rebuild {catalog.name}`"
            )
        self.catalog = catalog
        self.embedder = embedder
        self.collection = collection
        self.config = config or SearchConfig()
        # built once per catalog version and kept beside it (every later start / worker loads it)
        path = getattr(catalog, "path", None)
        titles = [p.title for p in catalog.products]
        self.lexical = (LexicalIndex.load_or_build(catalog.texts, Path(path) / "bm25", titles=titles)
                        if path is not None else LexicalIndex(catalog.texts, titles=titles))
        # Second dense signal for queries in Chinese / Japanese / Korean (the main embedder is
        # English-only): a multilingual encoder over the same product texts, embedded on first use
        # (through the embedding cache, so once per catalog text) and scored exactly in numpy.
        self.multilingual = multilingual
        self._ml_matrix: np.ndarray | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_catalog(cls, catalog: Catalog, embedder: Embedder, registry,
                    config: SearchConfig | None = None, multilingual: Embedder | None = None) -> "HybridSearcher":
        """A searcher over `catalog`, with its Chroma collection from `registry`."""
        return cls(catalog, embedder, registry.collection(catalog), config, multilingual=multilingual)

    def multilingual_matrix(self) -> np.ndarray:
        """The catalog's product texts embedded with the multilingual encoder (built once)."""
        if self.multilingual is None:
            raise ValueError("This searcher has no multilingual embedder; pass multilingual=...")
        if self._ml_matrix is None:
            with self._lock:
                if self._ml_matrix is None:
                    self._ml_matrix = self.multilingual.embed_documents(self.catalog.texts)
        return self._ml_matrix

    def _multilingual(self, query: str) -> bool:
        return self.multilingual is not None and bool(CJK.search(query))

    # -- public API -----------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, filters: SearchFilters | dict | None = None,
               query_vector: np.ndarray | None = None) -> list[Hit]:
        return self.candidate_pool(query, k, filters, query_vector=query_vector)

    def search_batch(self, queries: Sequence[str], k: int = 10,
                     filters: Sequence[SearchFilters | dict | None] | None = None,
                     batch_size: int = 64, whole_pool: bool = False) -> list[list[Hit]]:
        """Many queries: embedded in batches, one ANN call per batch. `whole_pool`: every candidate
        of each (unfiltered) query's pool, ranked, instead of its top k -- what fitting the fusion
        weights re-ranks (benchmarks/bench_relevance.py fit)."""
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
                out.append(self._search(query, vectors[i], k, flt, ann.get(i), whole_pool=whole_pool))
        return out

    def candidate_pool(self, query: str, n: int, filters: SearchFilters | dict | None = None,
                       query_vector: np.ndarray | None = None) -> list[Hit]:
        """Up to n filtered, fused, sorted hits; exactly n whenever at least n products match."""
        flt = self._parse_filters(filters)
        if query_vector is None and query.strip() and not self._multilingual(query):
            query_vector = self._embed([query])[0]   # (a CJK query is embedded by the multilingual encoder)
        vector = query_vector if query_vector is not None else np.zeros(self.catalog.embeddings.shape[1], np.float32)
        return self._search(query, vector, n, flt, None)

    # -- internals ------------------------------------------------------------------------------
    @staticmethod
    def _parse_filters(filters: SearchFilters | dict | None) -> SearchFilters | None:
        return as_filters(filters)

    def _embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.catalog.embeddings.shape[1]), dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if t.strip() and not self._multilingual(t)]
        if todo:
            vectors[todo] = self.embedder.embed_queries([texts[i] for i in todo])
        return vectors

    @property
    def filter_index(self) -> FilterIndex:
        """The catalog's one filter index (retrieval.filters), shared with recommend and chat."""
        return filter_index(self.catalog)

    def filter_mask(self, filters: SearchFilters | dict) -> np.ndarray:
        """Boolean mask over all products: which satisfy `filters` (retrieval.filters)."""
        return self.filter_index.mask(filters)

    def _search(self, query: str, vector: np.ndarray, k: int, filters: SearchFilters | None,
                ann: tuple[list[str], np.ndarray] | None, whole_pool: bool = False) -> list[Hit]:
        if k <= 0:
            return []
        cfg = self.config
        catalog = self.catalog
        n_total = len(catalog)
        terms = self.lexical.query_terms(query)
        lex_all = self.lexical.scores([s for _, s in terms])
        parsed = (terms, self.lexical.query_type(query, terms) if cfg.type_weight > 0 else "")
        has_text = bool(query.strip())

        mask = None
        if filters is not None:
            mask = self.filter_mask(filters)
            n_match = int(mask.sum())
            if n_match == 0:
                return []
        if has_text and self._multilingual(query):
            return self._search_multilingual(query, k, mask, lex_all, parsed)
        if mask is not None and n_match <= max(cfg.exact_below, k):
            return self._exact(np.flatnonzero(mask), vector, lex_all, k, parsed, has_text)

        # Candidate pool: dense top (exact over a filtered subset the budget allows, else the ANN
        # over-fetched in proportion to the filter's selectivity) U BM25 top.
        rows: set[int] = set()
        if has_text:
            if mask is not None and self.exact_dense(n_match):
                rows.update(self._dense_top(np.flatnonzero(mask), vector, max(cfg.n_dense, k)).tolist())
            else:
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
                return self._exact(np.flatnonzero(mask), vector, lex_all, k, parsed, has_text)
        elif whole_pool and rows:
            k = len(rows)
        elif len(rows) < k:
            return self._exact(np.arange(n_total), vector, lex_all, k, parsed, has_text)
        return self._rank(np.fromiter(rows, dtype=np.int64), vector, lex_all, k, parsed, has_text)

    def exact_dense(self, n_match: int) -> bool:
        """Does a filtered search over `n_match` products take its dense candidates exactly (one
        matrix-vector product over the subset) rather than from the over-fetched ANN?"""
        return n_match * self.catalog.embeddings.shape[1] <= self.config.exact_dense_budget

    def _dense_top(self, rows: np.ndarray, vector: np.ndarray, n: int, chunk: int = 8192) -> np.ndarray:
        """The n of `rows` with the highest cosine to `vector`, exactly. Gathered and multiplied a
        chunk at a time so the copy stays in cache (one pass over the subset's vectors)."""
        matrix = self.catalog.embeddings
        if len(rows) <= n:
            return rows
        vector = np.asarray(vector, dtype=matrix.dtype)
        sims = np.empty(len(rows), dtype=matrix.dtype)
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            np.matmul(matrix[part], vector, out=sims[start:start + len(part)])
        return rows[np.argpartition(-sims, n - 1)[:n]]

    def _exact(self, rows: np.ndarray, vector, lex_all, k, parsed, has_text) -> list[Hit]:
        return self._rank(rows, vector, lex_all, k, parsed, has_text)

    def _search_multilingual(self, query: str, k: int, mask: np.ndarray | None, lex_all: np.ndarray,
                             parsed) -> list[Hit]:
        """A CJK query: the dense component is the multilingual cosine, exact over all (filtered)
        products; candidates are its top n_dense U the BM25 top (English words in the query)."""
        matrix = self.multilingual_matrix()
        vector = self.multilingual.embed_queries([query])[0]
        sims = matrix @ vector
        allowed = np.ones(len(sims), dtype=bool) if mask is None else mask
        sims = np.where(allowed, sims, -np.inf)
        lex = np.where(allowed, lex_all, 0.0)
        n = min(max(self.config.n_dense, k), int(allowed.sum()))
        rows = set(np.argpartition(-sims, n - 1)[:n].tolist()) if n > 0 else set()
        n_lex = min(self.config.n_lexical, len(lex))
        if lex.max() > 0:
            rows.update(int(r) for r in np.argpartition(-lex, n_lex - 1)[:n_lex] if lex[r] > 0)
        rows_arr = np.fromiter((r for r in rows if allowed[r]), dtype=np.int64)
        return self._rank(rows_arr, vector, lex_all, k, parsed, True, matrix=matrix)

    def _rank(self, rows: np.ndarray, vector: np.ndarray, lex_all: np.ndarray, k: int,
              query: tuple[list[tuple[str, str]], str], has_text: bool,
              matrix: np.ndarray | None = None) -> list[Hit]:
        terms, query_type = query
        if len(rows) == 0:
            return []
        rows = np.sort(rows)  # deterministic tie order: catalog order
        matrix = self.catalog.embeddings if matrix is None else matrix
        dense = matrix[rows] @ vector if has_text else np.zeros(len(rows), np.float32)
        lexical = lex_all[rows]
        stems = [s for _, s in terms]
        coverage = self.lexical.coverage(rows, stems) if has_text else np.zeros(len(rows))
        phrase = self.lexical.adjacency(rows, stems) if has_text and self.config.phrase_weight > 0 \
            else np.zeros(len(rows))
        type_match = self.lexical.heads[rows] == query_type if query_type else None
        fused = fuse_scores(dense, lexical, self.config, coverage) + bonus_scores(coverage, phrase, type_match,
                                                                                self.config)
        if not has_text:  # no query text (filters only): best-rated first, then catalog order
            ratings = np.array([self.catalog.products[r].rating or 0.0 for r in rows])
            fused = ratings / 5.0
        kk = min(k, len(rows))
        top = np.argpartition(-fused, kk - 1)[:kk] if kk < len(rows) else np.arange(len(rows))
        top = top[np.lexsort((rows[top], -fused[top]))]
        hits = []
        for j in top:
            row = int(rows[j])
            components = {"dense": float(dense[j]), "lexical": float(lexical[j]), "coverage": float(coverage[j]),
                          "phrase": float(phrase[j])}
            if type_match is not None:
                components["type"] = float(type_match[j])
            hits.append(Hit(
                id=self.catalog.ids[row], row=row, score=float(fused[j]), components=components,
                matched_terms=[surface for surface, s in terms if self.lexical.has_term(row, s)],
            ))
        return hits
