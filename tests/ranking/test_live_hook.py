"""The live service treats every Recommender alike through the fold_in / score_live hooks: a new
model with user state is cached and scored like ALS, with no name-specific code in the service
(it used to reach into ALS's `user_factors` / `item_factors` and special-case SASRec by name)."""
from __future__ import annotations

import numpy as np
import pytest
from rk_fixtures import load_checkerboard_events

from ranking import service as service_mod
from ranking.base import Recommender
from ranking.cf import ALS
from ranking.events import EventStore
from ranking.service import RecommendationService
from ranking.train import FAST_MODELS, TrainConfig, train_all


class LastItemNeighbours(Recommender):
    """A new model with per-user state: the state is the last row seen; items after it score high."""

    name = "lastnext"

    def __init__(self, n_items: int):
        self.n_items = n_items
        self.folds: list[list[int]] = []

    def fit(self, interactions):
        return self

    def _score(self, history, weights):
        return self.score_live(history, weights, self.fold_in(history, weights))

    def fold_in(self, history, weights=None):
        self.folds.append([int(r) for r in history])
        return int(history[-1])

    def score_live(self, history, weights=None, state=None):
        assert state is not None, "the service hands the cached state back"
        scores = np.zeros(self.n_items, dtype=np.float32)
        scores[(state + 1) % self.n_items] = 10.0
        return scores

    def _state(self):
        return {}, {"n_items": self.n_items}

    @classmethod
    def _from_state(cls, arrays, config):
        return cls(config["n_items"])


@pytest.fixture
def live(tmp_path, tiny_catalog, monkeypatch):
    events = EventStore(tmp_path / "events.sqlite", known_items=tiny_catalog.index)
    load_checkerboard_events(events, tiny_catalog)
    train_all(tiny_catalog, events, tmp_path / "models", TrainConfig(models=FAST_MODELS), progress=None)
    model = LastItemNeighbours(len(tiny_catalog.ids))
    real_read = service_mod.read_bundle

    def read_with_the_new_model(root):
        bundle = real_read(root)
        bundle.models[model.name] = model
        bundle.weights[model.name] = 5.0
        return bundle

    monkeypatch.setattr(service_mod, "read_bundle", read_with_the_new_model)
    als_folds = []
    real_fold = ALS.fold_in
    monkeypatch.setattr(ALS, "fold_in", lambda self, h, w=None: als_folds.append(list(h)) or real_fold(self, h, w))
    svc = RecommendationService(tiny_catalog, events, tmp_path / "models")
    yield svc, model, als_folds
    events.close()


def test_a_new_model_with_the_hook_is_folded_in_cached_and_scored_like_the_built_ins(live, tiny_catalog):
    svc, model, als_folds = live
    assert "als" in svc._bundle.models
    svc.record({"user_id": "zoe", "item_id": tiny_catalog.ids[3], "type": "purchase"})
    first = svc.recommend("zoe", k=5)
    assert first[0].item_id == tiny_catalog.ids[4]          # its score decides, as its weight says
    assert "lastnext" in first[0].components
    assert len(model.folds) == 1 and len(als_folds) == 1    # both folded in once for this history ...
    svc.recommend("zoe", k=5)
    assert len(model.folds) == 1 and len(als_folds) == 1    # ... and cached until the next event
    svc.record({"user_id": "zoe", "item_id": tiny_catalog.ids[7], "type": "click"})
    after = svc.recommend("zoe", k=5)
    assert model.folds[-1][-1] == 7 and len(model.folds) == 2 and len(als_folds) == 2
    assert after[0].item_id == tiny_catalog.ids[8]


def test_models_without_user_state_keep_scoring_the_history():
    """The default hooks: no state, score_live == score."""
    from ranking.data import Interactions
    from ranking.popularity import Popularity

    pop = Popularity().fit(Interactions(n_items=4, sequences=[[0, 1, 1], [1, 2]]))
    assert pop.fold_in([1, 2]) is None
    assert np.array_equal(pop.score_live([1, 2]), pop.score([1, 2]))
