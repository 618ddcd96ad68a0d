"""Fusion and business rules: pure functions on a 5-user x 4-item fixture."""
import numpy as np
import pytest

from ranking.fusion import (ScoredItem, build_pool, contributions, drop_rows, fit_weights, fuse, keep_rows, merge_pools,
                            mmr, top_rows, zscore)
from ranking.metrics import ndcg_at_k, target_ranks

# 5 users x 4 items: "cf" knows the answer for users 0-2, "pop" for users 3-4.
CF = np.array([[4, 1, 2, 3], [1, 4, 2, 3], [1, 2, 4, 3], [4, 3, 2, 1], [4, 3, 2, 1]], dtype=float)
POP = np.tile([1.0, 2.0, 3.0, 4.0], (5, 1))
TARGETS = np.array([0, 1, 2, 3, 3])


def test_zscore_rows_and_infinities():
    z = zscore(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    np.testing.assert_allclose(z[0], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    assert (z[1] == 0).all()  # a constant row carries no information
    z = zscore(np.array([1.0, -np.inf, 3.0]))
    assert z[1] == -np.inf and z[0] == pytest.approx(-1.0) and z[2] == pytest.approx(1.0)


def test_zscore_of_one_finite_row_equals_the_masked_row_path_exactly():
    """One finite row (the live path) takes a shortcut; it must equal the general row path bit for bit."""
    rng = np.random.default_rng(5)
    rows = [rng.normal(size=12_101).astype(np.float32) * 3 + 1, rng.random(7, dtype=np.float32),
            np.log1p(rng.integers(0, 50, 999)).astype(np.float32), np.full(5, 2.5, np.float32),
            np.array([1e-20, 1e-20, 0.0], np.float32), rng.random(64)]   # float64 in: float32 out
    for x in rows:
        one, general = zscore(x), zscore(x[None, :])[0]
        assert one.dtype == np.float32 and np.array_equal(one, general)
    assert (zscore(np.full(5, 2.5)) == 0).all()


def test_fuse_is_a_weighted_sum_of_zscores():
    out = fuse({"cf": CF, "pop": POP}, {"cf": 1.0, "pop": 0.5})
    np.testing.assert_allclose(out, zscore(CF) + 0.5 * zscore(POP), rtol=1e-6)
    np.testing.assert_allclose(fuse({"cf": CF, "pop": POP}, {"cf": 2.0}), 2 * zscore(CF), rtol=1e-6)
    assert (fuse({"cf": CF}, {}) == 0).all()
    with pytest.raises(ValueError, match="one shape"):
        fuse({"a": CF, "b": POP[:, :3]}, {"a": 1, "b": 1})


def test_contributions_are_per_component():
    c = contributions({"cf": CF[0], "pop": POP[0]}, {"cf": 1.0, "pop": 0.0}, np.array([0, 3]))
    assert set(c) == {"cf"} and c["cf"][0] > c["cf"][1]


def test_pool_matches_exact_ranks_and_fit_finds_the_mix():
    comps = {"cf": CF, "pop": POP}
    pool = build_pool(comps, TARGETS, [[] for _ in TARGETS], depth=3)
    for i, name in enumerate(comps):
        w = np.eye(2)[i]
        exact = ndcg_at_k(target_ranks(comps[name], TARGETS), 10)
        assert pool.ndcg(w) == pytest.approx(exact)
    merged = merge_pools([build_pool({k: v[:2] for k, v in comps.items()}, TARGETS[:2], [[], []], 3),
                          build_pool({k: v[2:] for k, v in comps.items()}, TARGETS[2:], [[]] * 3, 3)])
    assert merged.ndcg([1, 0]) == pytest.approx(pool.ndcg([1, 0]))
    weights, best = fit_weights(pool, grid=(0.0, 0.5, 1.0, 2.0))
    assert weights["cf"] == 1.0  # the better single component anchors the scale
    assert best >= pool.ndcg([1, 0])
    assert best == pytest.approx(ndcg_at_k(target_ranks(fuse(comps, weights), TARGETS), 10))


def test_pool_excludes_history_but_not_the_target():
    pool = build_pool({"cf": CF[:1]}, np.array([0]), [[0, 3]], depth=2)
    assert pool.ranks([1.0]).tolist() == [0]


def test_rules_compose():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    out = keep_rows(drop_rows(scores, [0]), [1, 3, 4])
    assert top_rows(out, 3).tolist() == [1, 3, 4]
    assert top_rows(keep_rows(scores, [4, 2]), 5).tolist() == [2, 4]
    assert top_rows(np.full(3, -np.inf), 2).size == 0
    assert scores[0] == 0.9  # rules never modify their input


def test_mmr_trades_relevance_for_diversity():
    vecs = np.array([[1, 0], [1, 0.01], [0, 1], [0.01, 1]], dtype=float)
    rows = np.array([0, 1, 2, 3])
    rel = np.array([1.0, 0.95, 0.9, 0.2])
    assert mmr(rows, rel, vecs, 2, 0.0).tolist() == [0, 1]  # pure relevance
    assert mmr(rows, rel, vecs, 2, 0.5).tolist() == [0, 2]  # the near-duplicate is skipped
    with pytest.raises(ValueError, match="between 0 and 1"):
        mmr(rows, rel, vecs, 2, 1.5)


def test_scored_item_serialises():
    it = ScoredItem(3, "p3", 1.5, {"cf": 1.0}, {"history_item": "p1", "history_type": "purchase"})
    assert it.to_dict()["evidence"]["history_type"] == "purchase"


def test_mmr_order_trades_relevance_for_variety():
    from ranking.fusion import mmr_order, same_label_similarity

    brands = ["A", "A", "A", "B", "C"]
    scores = np.array([1.0, 0.95, 0.9, 0.5, 0.4])
    sim = same_label_similarity(brands)
    assert sim[0, 1] == 1.0 and sim[0, 3] == 0.0 and same_label_similarity(["", ""])[0, 1] == 0.0
    assert mmr_order(scores, sim, 3, 0.0).tolist() == [0, 1, 2]      # no diversity: by score
    assert mmr_order(scores, sim, 3, 0.5).tolist() == [0, 3, 4]      # one of each brand
    with pytest.raises(ValueError, match=r"\(5, 5\) similarity"):
        mmr_order(scores, sim[:2, :2], 3, 0.5)
