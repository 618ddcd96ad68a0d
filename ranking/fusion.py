"""Score fusion and business rules: pure functions on numpy arrays.

fused(item) = sum_c w_c * z_c(item), where z_c is component c's score standardised over all
items for that user (mean 0, std 1), so the weights are comparable across models. Weights are
fitted on the validation split only (`fit_weights`: coordinate search on NDCG@10).

Business rules are small pure steps that set removed items to -inf (`drop_rows`, `keep_rows`)
and return a copy; `mmr` re-orders a short list for diversity. `ScoredItem` keeps every component per product so explanations can cite them.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

NEG = -np.inf


@dataclass
class ScoredItem:
    row: int
    item_id: str
    score: float
    components: dict[str, float] = field(default_factory=dict)  # weighted contribution per component
    evidence: dict[str, str] = field(default_factory=dict)  # e.g. {"history_item": id, "history_type": "purchase"}

    def to_dict(self) -> dict:
        return {"id": self.item_id, "row": self.row, "score": self.score,
                "components": dict(self.components), "evidence": dict(self.evidence)}


# Normalisation and fusion ------------------------------------------------------------------
def zscore(scores: np.ndarray) -> np.ndarray:
    """Standardise each row over its finite entries (mean 0, std 1); -inf stays -inf, a
    constant row becomes 0."""
    s = np.asarray(scores, dtype=np.float32)
    one = s.ndim == 1
    if one and np.isfinite(s).all():   # the live path's case (one user, no -inf): no masks needed
        std = s.std()
        if not std > 1e-12:
            return np.zeros_like(s)
        return ((s - s.mean()) / std).astype(np.float32, copy=False)
    s2 = np.atleast_2d(s)
    finite = np.isfinite(s2)
    if finite.all():
        mean = s2.mean(axis=1, keepdims=True)
        std = s2.std(axis=1, keepdims=True)
    else:
        cnt = np.maximum(finite.sum(axis=1, keepdims=True), 1)
        filled = np.where(finite, s2, 0.0)
        mean = filled.sum(axis=1, keepdims=True) / cnt
        std = np.sqrt((np.where(finite, (s2 - mean) ** 2, 0.0)).sum(axis=1, keepdims=True) / cnt)
    out = np.where(finite, (s2 - mean) / np.where(std > 1e-12, std, 1.0), NEG).astype(np.float32)
    out[np.broadcast_to(std <= 1e-12, out.shape) & finite] = 0.0
    return out[0] if one else out


def fuse(components: Mapping[str, np.ndarray], weights: Mapping[str, float], normalise: bool = True) -> np.ndarray:
    """sum_c w_c * z(c); components without a weight (or weight 0) are ignored.

    components: name -> scores (n_items,) or (users, n_items), all the same shape.
    """
    used = [(name, float(weights.get(name, 0.0))) for name in components if weights.get(name, 0.0)]
    if not used:
        if not components:
            raise ValueError("Expected at least one component to fuse, got none")
        shape = np.shape(next(iter(components.values())))
        return np.zeros(shape, dtype=np.float32)
    shapes = {np.shape(components[n]) for n, _ in used}
    if len(shapes) != 1:
        raise ValueError(f"Expected components of one shape, got {sorted(map(str, shapes))}")
    total = None
    for name, w in used:
        z = zscore(components[name]) if normalise else np.asarray(components[name], dtype=np.float32)
        total = w * z if total is None else total + w * z
    return total


def contributions(components: Mapping[str, np.ndarray], weights: Mapping[str, float], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Per component, w_c * z_c at `rows` (for explanations); z over all items of each component."""
    out = {}
    for name, scores in components.items():
        w = float(weights.get(name, 0.0))
        if w:
            out[name] = w * zscore(scores)[rows]
    return out


# Fitting the weights on validation ---------------------------------------------------------
@dataclass
class FusionPool:
    """Validation candidates for weight fitting: for each user the union of every component's
    top-`depth` items (history excluded) plus the target, with their z-scores.

    Items outside the pool are assumed to rank below the pool (true for every weight vector
    that is a mix of the components, up to rare ties), so `ndcg` is a close, fast estimate of
    the full-ranking NDCG of a weight vector."""

    names: list[str]
    scores: np.ndarray  # (total candidates, n_components) z-scores
    offsets: np.ndarray  # (users + 1,) start of each user's candidates in `scores`
    target_pos: np.ndarray  # (users,) index (into scores) of each user's target

    def ranks(self, weights: Sequence[float]) -> np.ndarray:
        fused = self.scores @ np.asarray(weights, dtype=np.float32)
        t = fused[self.target_pos]
        per_user_t = np.repeat(t, np.diff(self.offsets))
        higher = np.add.reduceat((fused >= per_user_t).astype(np.int64), self.offsets[:-1])
        return higher - 1  # the target ties with itself; other ties count against it

    def ndcg(self, weights: Sequence[float], k: int = 10) -> float:
        r = self.ranks(weights)
        return float(np.where(r < k, 1.0 / np.log2(r + 2.0), 0.0).mean())


def build_pool(
    components: Mapping[str, np.ndarray],
    targets: np.ndarray,
    exclude: Sequence[Sequence[int]],
    depth: int = 50,
) -> FusionPool:
    """FusionPool for one batch of users (components: name -> (users, n_items) raw scores)."""
    names = list(components)
    zs = [zscore(components[n]) for n in names]
    B = len(targets)
    rows_all, offsets, tpos, total = [], [0], [], 0
    for b in range(B):
        ex = np.asarray(exclude[b], dtype=np.int64)
        ex = ex[ex != targets[b]]
        cand = set()
        for z in zs:
            s = z[b].copy()
            s[ex] = NEG
            top = np.argpartition(-s, depth)[:depth] if depth < len(s) else np.arange(len(s))
            cand.update(top[np.isfinite(s[top])].tolist())
        cand.discard(int(targets[b]))
        cand = np.array([int(targets[b])] + sorted(cand), dtype=np.int64)
        rows_all.append(np.stack([z[b, cand] for z in zs], axis=1))
        tpos.append(total)
        total += len(cand)
        offsets.append(total)
    return FusionPool(names, np.concatenate(rows_all).astype(np.float32), np.array(offsets), np.array(tpos))


def merge_pools(pools: Sequence[FusionPool]) -> FusionPool:
    names = pools[0].names
    scores, offsets, tpos, base = [], [0], [], 0
    for p in pools:
        if p.names != names:
            raise ValueError(f"Expected pools over the same components, got {names} and {p.names}")
        scores.append(p.scores)
        offsets.extend((p.offsets[1:] + base).tolist())
        tpos.extend((p.target_pos + base).tolist())
        base += len(p.scores)
    return FusionPool(names, np.concatenate(scores), np.array(offsets), np.array(tpos))


DEFAULT_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.4, 2.0, 3.0)


def fit_weights(
    pool: FusionPool,
    grid: Sequence[float] = DEFAULT_GRID,
    rounds: int = 3,
    k: int = 10,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, float], float]:
    """Coordinate search on validation NDCG@k. Starts from the best single component (weight 1,
    held fixed: the scale is free), then tries every grid value for each other component in
    turn, keeping improvements. Returns (weights, validation NDCG@k estimate)."""
    n = len(pool.names)
    singles = [pool.ndcg(np.eye(n)[c], k) for c in range(n)]
    anchor = int(np.argmax(singles))
    w = np.zeros(n)
    w[anchor] = 1.0
    best = singles[anchor]
    if progress:
        progress("fusion: single components " + ", ".join(f"{nm} {s:.4f}" for nm, s in zip(pool.names, singles)))
    for rnd in range(rounds):
        improved = False
        for c in range(n):
            if c == anchor:
                continue
            for g in grid:
                trial = w.copy()
                trial[c] = g
                score = pool.ndcg(trial, k)
                if score > best + 1e-6:
                    best, w, improved = score, trial, True
        if progress:
            progress(f"fusion: round {rnd + 1} val NDCG@{k} {best:.4f} weights " +
                     ", ".join(f"{nm}={x:g}" for nm, x in zip(pool.names, w)))
        if not improved:
            break
    return {nm: float(x) for nm, x in zip(pool.names, w)}, float(best)


# Business rules ----------------------------------------------------------------------------
def drop_rows(scores: np.ndarray, rows) -> np.ndarray:
    """Remove items (e.g. already purchased) by setting their score to -inf (copy)."""
    out = np.array(scores, dtype=np.float32, copy=True)
    rows = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows, dtype=np.int64)
    if rows.size:
        out[..., rows] = NEG
    return out


def keep_rows(scores: np.ndarray, rows) -> np.ndarray:
    """Restrict to candidate rows (e.g. a search's candidate pool); others become -inf."""
    out = np.full_like(np.asarray(scores, dtype=np.float32), NEG)
    rows = np.asarray(rows, dtype=np.int64)
    out[..., rows] = np.asarray(scores, dtype=np.float32)[..., rows]
    return out


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best finite scores, best first (ties: lower row first)."""
    s = np.asarray(scores)
    finite = np.flatnonzero(np.isfinite(s))
    if not finite.size:
        return finite
    k = min(k, finite.size)
    part = finite[np.argpartition(-s[finite], k - 1)[:k]]
    return part[np.lexsort((part, -s[part]))]


def mmr(rows: np.ndarray, scores: np.ndarray, vectors: np.ndarray, k: int, diversity: float) -> np.ndarray:
    """Maximal marginal relevance: pick k of `rows` greedily maximising
    (1 - diversity) * relevance - diversity * max cosine to the already picked items.
    relevance = min-max scaled `scores` (aligned with rows); vectors: item embeddings (by row)."""
    rows = np.asarray(rows, dtype=np.int64)
    if not 0.0 <= diversity <= 1.0:
        raise ValueError(f"Expected diversity between 0 and 1, got {diversity}")
    if diversity == 0.0 or len(rows) <= 1:
        return rows[:k]
    v = np.asarray(vectors[rows], dtype=np.float64)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return rows[mmr_order(scores, v @ v.T, k, diversity)]


def mmr_order(scores: np.ndarray, similarity: np.ndarray, k: int, diversity: float) -> np.ndarray:
    """MMR over a short list given its (n, n) pairwise `similarity` (any measure in [0, 1], e.g.
    same brand / same type / cosine): positions of the k picks, in pick order. The first pick is
    the most relevant; each next one maximises (1 - diversity) * relevance - diversity * its
    largest similarity to the picks so far (relevance = min-max scaled scores)."""
    s = np.asarray(scores, dtype=np.float64)
    sim = np.asarray(similarity, dtype=np.float64)
    if sim.shape != (len(s), len(s)):
        raise ValueError(f"Expected a ({len(s)}, {len(s)}) similarity matrix, got {sim.shape}")
    if not 0.0 <= diversity <= 1.0:
        raise ValueError(f"Expected diversity between 0 and 1, got {diversity}")
    if not len(s):
        return np.zeros(0, dtype=np.int64)
    if diversity == 0.0:
        return np.argsort(-s, kind="stable")[:k]
    rel = (s - s.min()) / (s.max() - s.min()) if s.max() > s.min() else np.ones_like(s)
    picked = [int(np.argmax(rel))]
    max_sim = sim[picked[0]].copy()
    avail = np.ones(len(s), dtype=bool)
    avail[picked[0]] = False
    while len(picked) < min(k, len(s)):
        gain = (1 - diversity) * rel - diversity * max_sim
        gain[~avail] = -np.inf
        j = int(np.argmax(gain))
        picked.append(j)
        avail[j] = False
        max_sim = np.maximum(max_sim, sim[j])
    return np.array(picked, dtype=np.int64)


def same_label_similarity(labels: Sequence[str | None]) -> np.ndarray:
    """(n, n): 1 where two items share a non-empty label (a brand, a product type), else 0."""
    lab = [str(x).strip().lower() if x else "" for x in labels]
    out = np.array([[1.0 if a and a == b else 0.0 for b in lab] for a in lab])
    return out
