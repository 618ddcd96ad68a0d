"""Metric functions on tiny hand-checked fixtures."""
import math

import numpy as np
import pytest
from scipy import sparse

from ranking.metrics import (coverage, hit_rate_at_k, intra_list_diversity, mrr, ndcg_at_k, ndcg_of_list, novelty,
                             recall_of_list, target_ranks, top_k)


def test_perfect_ranking_scores_one():
    scores = np.array([[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]])
    ranks = target_ranks(scores, np.array([0, 2]))
    assert ranks.tolist() == [0, 0]
    assert hit_rate_at_k(ranks, 1) == 1.0 and ndcg_at_k(ranks, 10) == 1.0 and mrr(ranks) == 1.0


def test_no_hit_scores_zero():
    scores = np.tile(np.arange(20, dtype=float), (3, 1))  # item 19 best, item 0 worst
    ranks = target_ranks(scores, np.array([0, 1, 2]))
    assert ranks.tolist() == [19, 18, 17]
    assert hit_rate_at_k(ranks, 10) == 0.0 and ndcg_at_k(ranks, 10) == 0.0


def test_worked_example():
    # user 1: target ranked 3rd (rank 2) -> 1/log2(4) = 0.5; user 2: target 1st -> 1; user 3: 11th -> 0.
    ranks = np.array([2, 0, 10])
    assert ndcg_at_k(ranks, 10) == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert hit_rate_at_k(ranks, 10) == pytest.approx(2 / 3)
    assert hit_rate_at_k(ranks, 2) == pytest.approx(1 / 3)
    assert ndcg_at_k(np.array([1]), 10) == pytest.approx(1 / math.log2(3))  # 0.6309


def test_textbook_graded_ndcg():
    # DCG = 3/1 + 2/log2(3) + 0 + 1/log2(5); ideal order 3, 2, 1.
    got = ndcg_of_list([10, 11, 12, 13], {10: 3, 11: 2, 13: 1}, k=4)
    dcg = 3 + 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 3 + 2 / math.log2(3) + 1 / math.log2(4)
    assert got == pytest.approx(dcg / idcg)
    assert ndcg_of_list([1, 2], set(), 2) == 0.0


def test_recall_of_list():
    assert recall_of_list([5, 1, 9, 2], {1, 2, 3}, k=4) == pytest.approx(2 / 3)
    assert recall_of_list([5, 1, 9, 2], {1, 2, 3}, k=1) == 0.0       # only the first k count
    assert recall_of_list([3, 2, 1], {1, 2, 3}, k=3) == 1.0
    assert math.isnan(recall_of_list([1], set(), 10))                 # nothing relevant: undefined


def test_ties_are_pessimistic():
    # A constant scorer gets no credit: the target ranks behind every tied item.
    ranks = target_ranks(np.zeros((1, 50)), np.array([7]))
    assert ranks.tolist() == [49]
    # Two-way tie at the top: rank 1, not 0.
    assert target_ranks(np.array([[1.0, 1.0, 0.0]]), np.array([1])).tolist() == [1]


def test_exclusion_removes_history_but_never_the_target():
    scores = np.array([[5.0, 4.0, 3.0, 2.0]])
    # items 0 and 1 (history) are excluded: the target (2) becomes first.
    assert target_ranks(scores, np.array([2]), exclude=[[0, 1]]).tolist() == [0]
    # the target is listed in the history too (a repeat purchase): it stays a candidate.
    assert target_ranks(scores, np.array([2]), exclude=[[0, 2]]).tolist() == [1]


def test_nan_scores_rank_last_and_bad_input_is_explained():
    assert target_ranks(np.array([[np.nan, 1.0, 0.5]]), np.array([0])).tolist() == [2]
    with pytest.raises(ValueError, match="one target per row"):
        target_ranks(np.zeros((2, 3)), np.array([0]))
    with pytest.raises(ValueError, match="targets in 0..2"):
        target_ranks(np.zeros((1, 3)), np.array([3]))


def test_top_k_orders_and_excludes():
    scores = np.array([[0.1, 0.9, 0.5, 0.7]])
    assert top_k(scores, 2).tolist() == [[1, 3]]
    assert top_k(scores, 2, exclude=[[1]]).tolist() == [[3, 2]]


def test_coverage():
    assert coverage(np.array([[0, 1], [1, 2]]), 10) == pytest.approx(0.3)
    assert coverage(np.array([[0, 1], [1, 0]]), 2) == 1.0


def test_intra_list_diversity_dense_and_sparse():
    vecs = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert intra_list_diversity(np.array([[0, 1]]), vecs) == pytest.approx(0.0)  # identical items
    assert intra_list_diversity(np.array([[0, 2]]), vecs) == pytest.approx(1.0)  # orthogonal
    # three items: pairs (0,1)=1, (0,2)=0, (1,2)=0 -> mean cos 1/3
    assert intra_list_diversity(np.array([[0, 1, 2]]), vecs) == pytest.approx(2 / 3)
    co = sparse.csr_matrix(vecs)  # items x users co-occurrence gives the same answer
    assert intra_list_diversity(np.array([[0, 1, 2]]), co) == pytest.approx(2 / 3)


def test_novelty():
    counts = np.array([9.0, 0.0])  # of 9 users, item 0 seen by all, item 1 by none
    # p = (c + 1) / (n + 1): item 0 -> 1 -> 0 bits; item 1 -> 0.1 -> log2(10) bits.
    assert novelty(np.array([[0]]), counts, 9) == pytest.approx(0.0)
    assert novelty(np.array([[0, 1]]), counts, 9) == pytest.approx(math.log2(10) / 2)


def test_distinct_label_share():
    from ranking.metrics import distinct_label_share

    assert distinct_label_share([["a", "b", "c"]]) == 1.0
    assert distinct_label_share([["a", "a", "a", "a"]]) == 0.25
    assert distinct_label_share([["a", "A", None, ""], ["x"]]) == 0.75   # unknown brands count apart
    assert distinct_label_share([]) == 0.0
