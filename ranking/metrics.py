"""Ranking metrics as pure functions on numpy arrays (no I/O, no models).

Leave-one-out evaluation has one relevant item per user, so HR@K and NDCG@K are functions of
the target's 0-based rank in the full ranking: HR@K = [rank < K], NDCG@K = 1/log2(rank + 2).
Ties are broken pessimistically: every other item with a score equal to the target's is
counted as ranked above it, so a constant scorer gets no credit.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse


def target_ranks(
    scores: np.ndarray,
    targets: np.ndarray,
    exclude: Sequence[Sequence[int]] | None = None,
) -> np.ndarray:
    """0-based rank of targets[b] among all items in scores[b] (full ranking).

    exclude[b]: item rows removed from the candidates of row b (e.g. the user's history); the
    target itself is never removed even when listed. Ties count against the target; NaN
    scores are treated as -inf.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"Expected scores of shape (users, items), got {scores.shape}")
    targets = np.asarray(targets, dtype=np.int64)
    if targets.shape != (scores.shape[0],):
        raise ValueError(f"Expected one target per row ({scores.shape[0]}), got shape {targets.shape}")
    if targets.size and (targets.min() < 0 or targets.max() >= scores.shape[1]):
        raise ValueError(f"Expected targets in 0..{scores.shape[1] - 1}")
    scores = np.where(np.isnan(scores), -np.inf, scores)
    rows = np.arange(len(targets))
    t = scores[rows, targets].copy()
    # items above the target plus ties (ties count against it), minus the target itself
    ranks = (scores >= t[:, None]).sum(axis=1) - 1
    if exclude is not None:
        if len(exclude) != len(targets):
            raise ValueError(f"Expected one exclude list per row ({len(targets)}), got {len(exclude)}")
        for b, ex in enumerate(exclude):
            ex = np.unique(np.asarray(ex, dtype=np.int64))
            ex = ex[ex != targets[b]]
            if ex.size:
                ranks[b] -= int((scores[b, ex] >= t[b]).sum())
    return ranks.astype(np.int64)


def hit_rate_at_k(ranks: np.ndarray, k: int) -> float:
    """Share of users whose target is in the top k (0-based ranks)."""
    ranks = np.asarray(ranks)
    return float((ranks < k).mean()) if ranks.size else 0.0


def ndcg_at_k(ranks: np.ndarray, k: int) -> float:
    """Mean NDCG@k with one relevant item per user: 1/log2(rank+2) when rank < k, else 0."""
    ranks = np.asarray(ranks, dtype=np.float64)
    if not ranks.size:
        return 0.0
    gains = np.where(ranks < k, 1.0 / np.log2(ranks + 2.0), 0.0)
    return float(gains.mean())


def mrr(ranks: np.ndarray) -> float:
    ranks = np.asarray(ranks, dtype=np.float64)
    return float((1.0 / (ranks + 1.0)).mean()) if ranks.size else 0.0


def ndcg_of_list(recommended: Sequence[int], relevant: dict[int, float] | set[int], k: int) -> float:
    """Textbook NDCG@k of one ranked list with (graded) relevance: DCG / ideal DCG."""
    rel = relevant if isinstance(relevant, dict) else {i: 1.0 for i in relevant}
    gains = [rel.get(int(i), 0.0) for i in list(recommended)[:k]]
    dcg = sum(g / np.log2(pos + 2) for pos, g in enumerate(gains))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum(g / np.log2(pos + 2) for pos, g in enumerate(ideal))
    return float(dcg / idcg) if idcg > 0 else 0.0


def recall_of_list(recommended: Sequence[int], relevant: set[int], k: int) -> float:
    """Share of the relevant items found in the first k of one ranked list; NaN when nothing is relevant."""
    if not relevant:
        return float("nan")
    return len(set(list(recommended)[:k]) & set(relevant)) / len(relevant)


def coverage(topk: np.ndarray, n_items: int) -> float:
    """Catalogue coverage: share of all items that appear in at least one user's top-k list."""
    topk = np.asarray(topk)
    if n_items <= 0:
        raise ValueError(f"Expected n_items > 0, got {n_items}")
    return float(np.unique(topk[topk >= 0]).size / n_items) if topk.size else 0.0


def intra_list_diversity(topk: np.ndarray, item_vectors: np.ndarray | sparse.spmatrix) -> float:
    """Mean over lists of (1 - mean pairwise cosine similarity) of the listed items.

    item_vectors: (n_items, d) dense embeddings, or a sparse (n_items, n_users) matrix whose
    rows are the items' interaction columns (co-occurrence cosine). Zero vectors have cosine 0.
    """
    topk = np.asarray(topk, dtype=np.int64)
    if topk.ndim != 2 or topk.shape[1] < 2:
        raise ValueError(f"Expected top-k lists of shape (users, k>=2), got {topk.shape}")
    is_sparse = sparse.issparse(item_vectors)
    if is_sparse:
        vecs = sparse.csr_matrix(item_vectors, dtype=np.float64)
        norms = np.sqrt(np.asarray(vecs.multiply(vecs).sum(axis=1)).ravel())
    else:
        vecs = np.asarray(item_vectors, dtype=np.float64)
        norms = np.linalg.norm(vecs, axis=1)
    inv = np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0)
    k = topk.shape[1]
    iu = np.triu_indices(k, 1)
    out = np.empty(len(topk))
    for b, items in enumerate(topk):
        v = vecs[items]
        sim = (v @ v.T).toarray() if is_sparse else v @ v.T
        sim = sim * inv[items][:, None] * inv[items][None, :]
        out[b] = 1.0 - sim[iu].mean()
    return float(out.mean())


def novelty(topk: np.ndarray, item_counts: np.ndarray, n_users: int) -> float:
    """Mean self-information -log2(p(i)) of recommended items, p(i) = (users with i + 1) / (n_users + 1)
    (add-one smoothing so never-seen items are finite). Higher = less popular = more novel."""
    topk = np.asarray(topk, dtype=np.int64)
    counts = np.asarray(item_counts, dtype=np.float64)
    p = (counts + 1.0) / (float(n_users) + 1.0)
    return float((-np.log2(p[topk])).mean()) if topk.size else 0.0


def top_k(scores: np.ndarray, k: int, exclude: Sequence[Sequence[int]] | None = None) -> np.ndarray:
    """Row-wise top-k item rows by score (descending; ties by lower row), excluded rows skipped."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    if exclude is not None:
        for b, ex in enumerate(exclude):
            if len(ex):
                scores[b, np.asarray(ex, dtype=np.int64)] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    return np.take_along_axis(part, order, axis=1)


def distinct_label_share(lists: Sequence[Sequence[str | None]]) -> float:
    """Mean over lists of (distinct labels / listed items), e.g. brands in each shown list:
    1.0 = every item a different brand; an empty or missing label counts as its own value.
    Lists with fewer than 2 items are skipped; no such list gives 0.0."""
    shares = []
    for labels in lists:
        labels = list(labels)
        if len(labels) < 2:
            continue
        named = [str(x).strip().lower() for x in labels if x and str(x).strip()]
        distinct = len(set(named)) + (len(labels) - len(named))
        shares.append(distinct / len(labels))
    return float(np.mean(shares)) if shares else 0.0
