"""Recency-weighted popularity: the same list for everyone, newest events count most."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .base import Recommender
from .data import Interactions


@dataclass
class PopularityConfig:
    # An event this many days older than the newest one counts half (0 = plain counts).
    half_life_days: float = 30.0
    # Weigh events by their confidence (purchase 1, cart 0.8, click 0.5, view 0.3) instead of 1 each.
    use_event_weights: bool = True


class Popularity(Recommender):
    """score(item) = log(1 + recency-weighted event count). Histories are ignored."""

    name = "pop"

    def __init__(self, config: PopularityConfig | None = None, **kwargs):
        self.config = config or PopularityConfig(**kwargs)
        self.scores_: np.ndarray | None = None
        self.n_items = 0

    def fit(self, interactions: Interactions) -> "Popularity":
        n = interactions.n_items
        if not interactions.n_events:
            counts = np.zeros(n)
        else:
            items = np.concatenate(interactions.sequences)
            w = np.ones(len(items))
            if self.config.use_event_weights and interactions.weights is not None:
                w = w * np.concatenate(interactions.weights)
            if self.config.half_life_days > 0 and interactions.timestamps is not None:
                ts = np.concatenate(interactions.timestamps)
                age_days = (ts.max() - ts) / 86400.0
                w = w * np.power(0.5, age_days / self.config.half_life_days)
            counts = np.bincount(items, weights=w, minlength=n)
        self.scores_ = np.log1p(counts).astype(np.float32)
        self.n_items = n
        return self

    def _score(self, history, weights):
        return self.scores_.copy()

    def _score_empty(self):
        return self.scores_.copy()

    def score_batch(self, histories, weights=None):
        self._require_fitted()
        return np.broadcast_to(self.scores_, (len(histories), self.n_items)).copy()

    def _state(self):
        return {"scores": self.scores_}, {"config": asdict(self.config)}

    @classmethod
    def _from_state(cls, arrays, config):
        m = cls(PopularityConfig(**config["config"]))
        m.scores_ = arrays["scores"].astype(np.float32)
        m.n_items = len(m.scores_)
        return m
