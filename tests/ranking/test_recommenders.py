"""Every Recommender against one contract (a mixin, as in implicit's RecommenderBaseTestMixin),
on the checkerboard fixture whose right answer is known (see conftest.py)."""
from __future__ import annotations

import numpy as np
import pytest

from ranking.base import NotFittedError
from ranking.cf import ALS, ItemKNN
from ranking.content import ContentRecommender
from ranking.popularity import Popularity
from ranking.sequential import SASRec, SASRecConfig

from rk_fixtures import GROUP, N_ITEMS, checkerboard_interactions, group_embeddings, walk

A_HISTORY = walk(0, 3, 4)  # rows 3, 4, 5, 6
B_HISTORY = walk(1, 8, 4)  # rows 20, 21, 22, 23


class RecommenderContract:
    """Subclasses provide `make_model()`; `personalised` says whether histories matter."""

    personalised = True
    group_k = 5  # the top group_k (history excluded) must all be in the history's group

    def make_model(self):
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls):
        model = cls().make_model()
        out = model.fit(checkerboard_interactions())
        assert out is model  # fit returns self
        return model

    def test_score_shape_and_finite(self, fitted):
        s = fitted.score(A_HISTORY)
        assert s.shape == (N_ITEMS,) and np.isfinite(s).all()
        assert fitted.score(A_HISTORY, items=np.array([1, 5])).shape == (2,)

    def test_score_batch_matches_score(self, fitted):
        batch = fitted.score_batch([A_HISTORY, B_HISTORY, [0]])
        for b, h in enumerate([A_HISTORY, B_HISTORY, [0]]):
            np.testing.assert_allclose(batch[b], fitted.score(h), rtol=1e-4, atol=1e-5)

    def test_recommend_is_sorted_and_respects_exclude(self, fitted):
        ids, scores = fitted.recommend(A_HISTORY, k=5, exclude=A_HISTORY)
        assert len(ids) == 5 and len(set(ids.tolist())) == 5
        assert not set(ids.tolist()) & set(A_HISTORY)
        assert np.all(np.diff(scores) <= 1e-6)

    def test_empty_history_is_not_an_error(self, fitted):
        ids, _ = fitted.recommend([], k=3)
        assert len(ids) <= 3
        assert fitted.score_batch([[], A_HISTORY]).shape == (2, N_ITEMS)

    def test_bad_rows_are_explained(self, fitted):
        with pytest.raises(ValueError, match=r"history rows in 0\.\.23"):
            fitted.score([0, N_ITEMS])
        with pytest.raises(ValueError, match="k > 0"):
            fitted.recommend(A_HISTORY, k=0)

    def test_unfitted_model_says_so(self):
        model = self.make_model()
        with pytest.raises(NotFittedError, match="fit"):
            model.score(A_HISTORY)

    def test_save_load_roundtrip(self, fitted, tmp_path):
        fitted.save(tmp_path / "m")
        loaded = type(fitted).load(tmp_path / "m")
        np.testing.assert_allclose(loaded.score(A_HISTORY), fitted.score(A_HISTORY), rtol=1e-3, atol=1e-3)
        with pytest.raises(FileNotFoundError, match="No saved model"):
            type(fitted).load(tmp_path / "missing")

    def test_checkerboard_right_answer(self, fitted):
        if not self.personalised:
            pytest.skip("not personalised")
        for history, group in ((A_HISTORY, 0), (B_HISTORY, 1)):
            ids, _ = fitted.recommend(history, k=self.group_k, exclude=history)
            assert len(ids) == self.group_k
            assert all(int(i) // GROUP == group for i in ids), (history, ids)


class TestPopularity(RecommenderContract):
    personalised = False

    def make_model(self):
        return Popularity()

    def test_best_seller_first_for_everyone(self, fitted):
        for history in ([], A_HISTORY, B_HISTORY):
            assert fitted.recommend(history, k=1)[0][0] == 0

    def test_recency_weighting(self):
        from ranking.data import Interactions

        day = 86400.0
        # item 0: 3 events 100 days ago; item 1: 2 events today -> recency wins with a 30-day half-life
        data = Interactions(2, [[0, 0, 0], [1, 1]], timestamps=[[0.0, 0.0, 0.0], [100 * day, 100 * day]])
        assert Popularity(half_life_days=30).fit(data).recommend([], k=1)[0][0] == 1
        assert Popularity(half_life_days=0).fit(data).recommend([], k=1)[0][0] == 0


class TestItemKNN(RecommenderContract):
    def make_model(self):
        return ItemKNN(K=50)

    def test_contributions_point_at_the_history_item(self, fitted):
        c = fitted.contributions([3, 20], [4, 21])  # 4 follows 3, 21 follows 20
        assert c.shape == (2, 2)
        assert np.argmax(c[0]) == 0 and np.argmax(c[1]) == 1

    def test_live_score_is_bit_identical_to_the_sparse_product(self):
        """The one-history path sums similarity rows itself; it must equal `h @ similarity` exactly
        (random weights, so a different summation order would show), and the batch path."""
        from scipy import sparse

        from ranking.cf import _history_matrix

        rng = np.random.default_rng(3)
        n = 400
        sim = sparse.random(n, n, density=0.05, random_state=4, dtype=np.float32, format="csr")
        sim.data = rng.random(sim.nnz, dtype=np.float32) * 7.3
        m = ItemKNN(K=50)
        m.similarity, m.n_items = sim, n
        for length in (1, 2, 7, 50):
            hist = rng.integers(0, n, length)          # repeats included
            w = rng.random(length) + 0.1
            h = _history_matrix([hist], [w], n, m.config.recency_half_life)
            expect = np.asarray((h @ sim).todense(), dtype=np.float32).ravel()
            got = m.score(hist, weights=w)
            assert got.dtype == np.float32 and np.array_equal(got, expect)
            assert np.array_equal(got, m.score_batch([hist], [w])[0])
        lonely = np.flatnonzero(np.diff(sim.indptr) == 0)   # an item with no neighbours scores nothing
        if lonely.size:
            assert not m.score([int(lonely[0])]).any()


class TestALS(RecommenderContract):
    def make_model(self):
        return ALS(factors=2, iterations=15, regularization=0.1, alpha=10.0)  # two blocks -> two factors

    def test_fold_in_equals_implicit_partial_fit(self, fitted):
        from scipy import sparse

        # the user factor is exactly implicit's recalculate_user (what partial_fit_users stores)
        from ranking.base import recency_weights

        w = recency_weights(4, fitted.config.recency_half_life).astype(np.float32)  # newest event weighs most
        row = sparse.csr_matrix((w, (np.zeros(4), A_HISTORY)), shape=(1, N_ITEMS))
        expect = fitted._model.recalculate_user(0, row)
        np.testing.assert_allclose(fitted.user_factors([A_HISTORY])[0], expect, rtol=1e-4, atol=1e-6)
        # the batched path (implicit) and the single-user path (numpy) agree
        many = fitted.user_factors([A_HISTORY] * 9)
        np.testing.assert_allclose(many[0], expect, rtol=1e-4, atol=1e-6)

    def test_reproducible(self):
        data = checkerboard_interactions()
        a = self.make_model().fit(data).score(A_HISTORY)
        b = self.make_model().fit(data).score(A_HISTORY)
        np.testing.assert_allclose(a, b, rtol=1e-5)


class TestContent(RecommenderContract):
    def make_model(self):
        return ContentRecommender(group_embeddings())

    def test_unfitted_model_says_so(self):
        with pytest.raises(NotFittedError):
            ContentRecommender().score(A_HISTORY)

    def test_needs_embeddings(self):
        with pytest.raises(ValueError, match="embeddings"):
            ContentRecommender().fit(checkerboard_interactions())

    def test_recent_events_weigh_more(self, fitted):
        # an old B item, then recent A items: A leads
        ids, _ = fitted.recommend([20] + A_HISTORY, k=3, exclude=[20] + A_HISTORY)
        assert all(i < GROUP for i in ids)


TINY_SASREC = SASRecConfig(d_model=16, n_heads=1, n_layers=1, dropout=0.1, attn_dropout=0.0, lr=5e-3,
                           batch_size=32, max_epochs=60, patience=100, threads=1, text_mode="none")


class TestSASRec(RecommenderContract):
    group_k = 2  # trained for the next item only: the next two steps of the walk

    def make_model(self):
        return SASRec(TINY_SASREC)

    def test_predicts_the_next_item_of_the_walk(self, fitted):
        # the walk 3, 4, 5, 6 continues with 7; 20, 21, 22, 23 wraps to 12
        assert fitted.recommend(A_HISTORY, k=1)[0][0] == 7
        assert fitted.recommend(B_HISTORY, k=1)[0][0] == 12

    def test_early_stopping_keeps_best_validation_and_is_reproducible(self):
        data = checkerboard_interactions()
        from dataclasses import replace

        cfg = replace(TINY_SASREC, max_epochs=12, patience=3, eval_every=1)
        hist = [walk(0, 0, 4), walk(1, 2, 4)]
        val = (hist, np.array([4, 12 + 6]))
        lines = []
        a = SASRec(cfg).fit(data, validation=val, progress=lines.append)
        b = SASRec(cfg).fit(data, validation=val, progress=None)
        assert any("val NDCG@10" in line for line in lines)
        assert a.history_ and len(a.history_) == len(b.history_)
        kept = next(h for h in a.history_ if h["epoch"] == a.best_epoch_)   # the epoch whose weights are kept
        assert kept["ndcg@10"] == max(h["ndcg@10"] for h in a.history_)
        np.testing.assert_allclose(a.score(A_HISTORY), b.score(A_HISTORY), rtol=1e-4, atol=1e-4)

    def test_batches_sorted_by_length_give_each_row_its_own_scores_in_caller_order(self, fitted):
        """score_batch and _validate group rows by length (less padding); rows must come back in
        the caller's order, and each equal to scoring it alone."""
        hists = [walk(0, 0, 9), [3], walk(1, 2, 4), [], walk(0, 5, 2), walk(1, 0, 7), [12, 13]]
        batch = fitted.score_batch(hists, batch_size=2)
        for h, row in zip(hists, batch):
            if len(h):
                np.testing.assert_allclose(row, fitted.score(h), rtol=1e-4, atol=1e-4)
            else:
                assert not row.any()
        from ranking.metrics import ndcg_at_k, target_ranks

        live = [np.asarray(h, dtype=np.int64) for h in hists if len(h)]
        targets = np.array([5, 6, 7, 8, 9, 10])
        ranks = target_ranks(fitted.score_batch(live), targets, exclude=live)
        ndcg, hr = fitted._validate(live, targets, batch_size=2)
        assert ndcg == pytest.approx(ndcg_at_k(ranks, 10), abs=1e-6)
        assert hr == pytest.approx(float((ranks < 10).mean()), abs=1e-9)

    def test_recent_positions_put_the_newest_item_last_whatever_the_length(self):
        """positions="recent": a right-padded row's newest item takes position max_len - 1 (SASRec's
        left-padded layout), "start": the oldest takes 0; the scores differ between the two."""
        import torch
        from dataclasses import replace

        from ranking.sequential import _build_net

        n = 30
        rows = torch.tensor([[3, 4, 5, n, n, n, n, n], [1, 2, 3, 4, 5, n, n, n]])
        seen = []
        torch.manual_seed(0)
        net = _build_net(n, replace(TINY_SASREC, max_len=8)).eval()
        net.pos_emb.register_forward_hook(lambda _m, args, _out: seen.append(args[0].tolist()))
        with torch.no_grad():
            recent = net.hidden(rows)
        assert seen == [[[5, 6, 7, 7, 7, 7, 7, 7], [3, 4, 5, 6, 7, 7, 7, 7]]]
        start_net = _build_net(n, replace(TINY_SASREC, max_len=8, positions="start")).eval()
        start_net.load_state_dict(net.state_dict())
        with torch.no_grad():
            start = start_net.hidden(rows)
        assert not torch.allclose(recent[0, 2], start[0, 2])
        with pytest.raises(ValueError, match="positions"):
            SASRecConfig(positions="left")

    def test_a_bundle_saved_before_recent_positions_loads_with_start_positions(self, tmp_path):
        import json
        from dataclasses import replace

        m = SASRec(replace(TINY_SASREC, max_epochs=2, positions="start")).fit(checkerboard_interactions(), progress=None)
        m.save(tmp_path / "old")
        meta = next(p for p in (tmp_path / "old").rglob("*.json"))
        saved = json.loads(meta.read_text())
        found = [d for d in _dicts(saved) if "positions" in d and "max_len" in d]
        assert found, "the saved config should hold the positions field"
        for d in found:
            del d["positions"]        # what an older program wrote
        meta.write_text(json.dumps(saved))
        loaded = SASRec.load(tmp_path / "old")
        assert loaded.config.positions == "start"
        np.testing.assert_allclose(loaded.score(A_HISTORY), m.score(A_HISTORY), rtol=1e-4, atol=1e-4)

    def test_text_features_roundtrip(self, tmp_path):
        from dataclasses import replace

        cfg = replace(TINY_SASREC, max_epochs=2, text_mode="auto")
        m = SASRec(cfg, text_embeddings=group_embeddings()).fit(checkerboard_interactions(), progress=None)
        assert m.text_embeddings is not None
        m.save(tmp_path / "s")
        loaded = SASRec.load(tmp_path / "s")
        np.testing.assert_allclose(loaded.score(A_HISTORY), m.score(A_HISTORY), rtol=1e-4, atol=1e-4)
        with pytest.raises(ValueError, match="text_embeddings"):
            SASRec(replace(cfg, text_mode="add"))


def _dicts(obj):
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from _dicts(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _dicts(v)
