"""The re-ranker over the fusion: its features, what it learns, persistence, and its use by the
live service (shoppers with a history) and the offline harness."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import lightgbm as lgb
import numpy as np
import pytest
from rk_fixtures import GROUP, checkerboard_interactions, load_checkerboard_events

from ranking.bundle import ModelBundle, bundle_root, read_bundle, write_bundle
from ranking.events import EventStore
from ranking.fusion import fuse, zscore
from ranking.metrics import ndcg_at_k
from ranking.profile import CatalogFeatures
from ranking.rerank import CONTEXT_FEATURES, ItemSide, Reranker, RerankConfig, batch_pools, candidate_features, fit_reranker
from ranking.service import RecommendationService
from ranking.train import FAST_MODELS, TrainConfig, train_all


def side(brands, categories, embeddings=None) -> ItemSide:
    products = [SimpleNamespace(title=f"t{i}", brand=b, category=c, price=None)
                for i, (b, c) in enumerate(zip(brands, categories))]
    return ItemSide.from_features(CatalogFeatures(SimpleNamespace(products=products)), embeddings)


def test_item_side_codes_parent_categories_from_the_first_three_levels():
    s = side(["A", "a", None], ["Beauty > Hair > Shampoo > Dry", "Beauty > Hair > Shampoo > Wet", "Beauty > Skin"])
    assert s.brand[0] == s.brand[1] >= 0 and s.brand[2] == -1     # brands compare ignoring case
    assert s.category[0] != s.category[1]
    assert s.parent[0] == s.parent[1] != s.parent[2]               # same "Beauty > Hair > Shampoo"


def test_candidate_features_state_the_facts_of_each_pair():
    e = np.eye(4, dtype=np.float32)
    e[3] = [1, 1, 0, 0]
    items = side(["A", "B", "A", None], ["x", "y", "y", "x"], e)
    z = [np.array([0.1, 0.2, 0.3, 0.4], np.float32)]
    fused = np.array([5.0, 4.0, 3.0, 2.0], np.float32)
    f = candidate_features(z, fused, np.array([2, 3]), np.array([1, 0]), items)   # last history item: row 0
    cols = {name: f[:, i] for i, name in enumerate(["z_a", *CONTEXT_FEATURES])}
    assert cols["z_a"].tolist() == pytest.approx([0.3, 0.4])
    assert cols["fused"].tolist() == [3.0, 2.0] and cols["fused_rank"].tolist() == [0, 1]
    assert cols["same_brand_last"].tolist() == [1, 0]           # row 2 is brand A like row 0; row 3 has none
    assert cols["brand_in_history"].tolist() == [1, 0]
    assert cols["same_category_last"].tolist() == [0, 1]        # row 3 is category x like row 0
    assert cols["category_in_history"].tolist() == [1, 1]       # y (row 1) and x (row 0) were seen
    assert cols["cosine_last"].tolist() == pytest.approx([0.0, 2 ** -0.5])
    assert cols["cosine_max"].tolist() == pytest.approx([0.0, 2 ** -0.5])
    assert cols["history_len"].tolist() == [2, 2]
    assert cols["last_brand_share"].tolist() == [0.5, 0.5]       # one of the two history items is brand A


def brand_world(n_users: int, seed: int, n_items: int = 300, n_brands: int = 30):
    """Components that know nothing (noise); the target is an item of the last item's brand."""
    rng = np.random.default_rng(seed)
    brands = [f"b{i % n_brands}" for i in range(n_items)]
    hists, targets = [], []
    for _ in range(n_users):
        h = rng.choice(n_items, 4, replace=False)
        same = [i for i in range(n_items) if brands[i] == brands[h[-1]] and i not in h]
        hists.append(h)
        targets.append(int(rng.choice(same)))
    comps = {"a": rng.normal(size=(n_users, n_items)).astype(np.float32),
             "b": rng.normal(size=(n_users, n_items)).astype(np.float32)}
    return side(brands, ["c"] * n_items), hists, np.array(targets), comps


def test_the_reranker_learns_what_the_linear_fusion_cannot_and_is_scored_on_new_shoppers():
    items, hists, targets, comps = brand_world(600, seed=0)
    weights = {"a": 1.0, "b": 0.5}
    cfg = RerankConfig(min_users=50, min_data_in_leaf=20)
    rr, note = fit_reranker(lambda sl: {c: v[sl] for c, v in comps.items()}, weights, hists, targets, items, cfg)
    assert rr is not None and not note.startswith("skipped") and rr.info["trees"] >= 1
    assert rr.feature_names[:2] == ["z_a", "z_b"]

    items2, hists2, targets2, comps2 = brand_world(400, seed=1)   # new shoppers, same kind of world
    z = {c: zscore(v) for c, v in comps2.items()}
    linear, reranked = [], []
    fused = fuse(z, weights, normalise=False)
    for b, (pool, feats, rank) in enumerate(batch_pools(z, fused, rr.components, hists2, targets2, items2, 100)):
        p = rr.predict(feats)
        hit = np.flatnonzero(pool == targets2[b])
        linear.append(rank)
        reranked.append(int((p >= p[hit[0]]).sum() - 1) if hit.size else rank)
    # noise alone: the target is one of ~296 items; by brand it is one of ~9
    assert ndcg_at_k(np.array(linear), 10) < 0.05
    assert ndcg_at_k(np.array(reranked), 10) > 0.15


def test_too_few_shoppers_with_the_target_in_the_pool_fit_nothing_and_say_why():
    items, hists, targets, comps = brand_world(30, seed=0)
    rr, note = fit_reranker(lambda sl: {c: v[sl] for c, v in comps.items()}, {"a": 1.0}, hists, targets, items,
                            RerankConfig(min_users=100))
    assert rr is None
    assert "of 30 validation shoppers" in note and "needs 100" in note


def test_a_saved_reranker_loads_with_the_same_predictions(tmp_path):
    items, hists, targets, comps = brand_world(300, seed=0)
    rr, _ = fit_reranker(lambda sl: {c: v[sl] for c, v in comps.items()}, {"a": 1.0}, hists, targets, items,
                         RerankConfig(min_users=50, min_data_in_leaf=20, max_trees=30))
    rr.save(tmp_path / "rr")
    back = Reranker.load(tmp_path / "rr")
    X = np.random.default_rng(3).normal(size=(50, len(rr.feature_names))).astype(np.float32)
    assert np.array_equal(back.predict(X), rr.predict(X))
    assert back.components == rr.components and back.weights == rr.weights and back.config == rr.config


def test_config_is_validated():
    with pytest.raises(ValueError, match="depth of at least 2"):
        RerankConfig(depth=1)
    with pytest.raises(ValueError, match="holdout share"):
        RerankConfig(holdout=1.0)


# The live service -------------------------------------------------------------------------
def anti_popularity_reranker(components: list[str]) -> Reranker:
    """A booster trained to put the LEAST popular candidate first (z_pop lowest): the opposite
    of what the linear fusion does with a positive popularity weight, so its use is visible."""
    rng = np.random.default_rng(0)
    n_feat = len(components) + len(CONTEXT_FEATURES)
    pop_col = components.index("pop")
    X = rng.normal(size=(200 * 20, n_feat)).astype(np.float32)
    y = np.zeros(len(X), np.int32)
    for g in range(200):
        block = X[g * 20:(g + 1) * 20, pop_col]
        y[g * 20 + int(np.argmin(block))] = 1
    ds = lgb.Dataset(X, y, group=[20] * 200)
    booster = lgb.train(dict(objective="lambdarank", verbose=-1, min_data_in_leaf=5, num_threads=1), ds, 40)
    return Reranker(booster, components, {c: 1.0 for c in components}, RerankConfig(depth=24))


@pytest.fixture
def reranked_service(tmp_path, tiny_catalog):
    store = EventStore(tmp_path / "events.sqlite", known_items=tiny_catalog.index)
    load_checkerboard_events(store, tiny_catalog)
    train_all(tiny_catalog, store, tmp_path / "models", TrainConfig(models=FAST_MODELS), progress=None)
    root = bundle_root(tmp_path / "models", tiny_catalog.name)
    b = read_bundle(root)
    assert b.reranker is None            # 68 shoppers: fewer than min_users, so `train` fitted none
    write_bundle(root, replace(b, reranker=anti_popularity_reranker(list(b.models))))
    yield RecommendationService(tiny_catalog, store, tmp_path / "models")
    store.close()


def test_the_service_orders_a_known_shoppers_candidates_by_the_reranker(reranked_service):
    svc = reranked_service
    assert svc._bundle.reranker is not None
    pop = svc._bundle.models["pop"].score([])
    for r in range(14, 17):
        svc.record({"user_id": "ann", "item_id": f"sha{r:02d}", "type": "purchase"})
    recs = svc.recommend("ann", k=5)
    owned = {svc.index[f"sha{r:02d}"] for r in range(14, 17)}
    rest = [i for i in range(len(svc.ids)) if i not in owned]
    least_popular = rest[int(np.argmin(pop[rest]))]
    assert recs[0].item_id == svc.ids[least_popular]          # the re-ranker's order, not the fusion's
    assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)
    assert not owned & {svc.index[r.item_id] for r in recs}    # purchases stay excluded


def test_the_service_keeps_the_fusion_for_cold_shoppers_and_query_pools(reranked_service):
    svc = reranked_service
    svc.record({"user_id": "cold", "item_id": "sha14", "type": "purchase"})
    cold = svc.recommend("cold", k=3)
    assert all(r.item_id.startswith("sha") for r in cold)      # one event: the fusion (similar shampoos)
    for r in range(14, 17):
        svc.record({"user_id": "ann", "item_id": f"sha{r:02d}", "type": "purchase"})
    pool = [SimpleNamespace(id=f"lip{i:02d}", score=float(GROUP - i)) for i in range(6)]
    searched = svc.recommend("ann", k=3, candidates=pool)
    assert [r.item_id for r in searched][0] == "lip00"         # retrieval relevance leads, no re-ranking


def test_train_fits_and_saves_a_reranker_when_there_are_enough_shoppers(tmp_path, tiny_catalog):
    store = EventStore(tmp_path / "events.sqlite", known_items=tiny_catalog.index)
    load_checkerboard_events(store, tiny_catalog, checkerboard_interactions(users_per_group=150, length=6))
    cfg = TrainConfig(models=FAST_MODELS, rerank=RerankConfig(min_users=50, min_data_in_leaf=20))
    report = train_all(tiny_catalog, store, tmp_path / "models", cfg, progress=None)
    b = read_bundle(bundle_root(tmp_path / "models", tiny_catalog.name))
    store.close()
    assert b.reranker is not None and b.reranker.components == list(b.models)
    assert b.manifest["rerank"]["with_target_in_pool"] >= 50 and b.manifest["reranker"] is True
    assert report.weights == b.reranker.weights
