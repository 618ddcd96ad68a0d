"""The one Recommender interface that every model implements.

Items are integer rows of the catalog (0..n_items-1). A user is represented by the history of
rows they interacted with, oldest first (optionally with a confidence per event), never by a
trained user id: a model answers for any history, so a new event changes the next answer
without retraining (ALS folds the history in, item-kNN sums similarities, the sequential model
reads the sequence, content averages embeddings). The live service scores every model the same
way: `fold_in(history)` once per user and event (cached), then `score_live(history, state=...)`.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .data import Interactions

History = Sequence[int]


class NotFittedError(RuntimeError):
    pass


class Recommender(ABC):
    """fit / score / recommend -> (rows, scores) / save / load."""

    name: str = "base"
    n_items: int = 0
    # True when live scoring is a native forward pass that releases the GIL for most of its time
    # (a torch network): the live service then scores it in a worker thread while the other
    # components are computed.
    parallel_live: bool = False

    @abstractmethod
    def fit(self, interactions: Interactions) -> "Recommender":
        """Train on `interactions` (rows of the same item space used later); returns self."""

    @abstractmethod
    def _score(self, history: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        """Scores of all items (n_items,) for one validated, non-empty history."""

    def _score_empty(self) -> np.ndarray:
        """Scores for an empty history (no information): all zeros unless a model knows better."""
        return np.zeros(self.n_items, dtype=np.float32)

    def score(
        self,
        history: History,
        items: np.ndarray | None = None,
        weights: Sequence[float] | None = None,
    ) -> np.ndarray:
        """Score for every item (or only `items`) given a history of rows (oldest first).

        weights: optional confidence per history event (purchase 1, cart 0.8, click 0.5, view 0.3).
        """
        h, w = self._check_history(history, weights)
        s = self._score(h, w) if h.size else self._score_empty()
        return s if items is None else s[np.asarray(items, dtype=np.int64)]

    def score_batch(
        self, histories: Sequence[History], weights: Sequence[Sequence[float]] | None = None
    ) -> np.ndarray:
        """(len(histories), n_items) scores; models override this with a vectorised version."""
        out = np.empty((len(histories), self.n_items), dtype=np.float32)
        for b, h in enumerate(histories):
            out[b] = self.score(h, weights=None if weights is None else weights[b])
        return out

    # Live scoring (ranking/service.py) ------------------------------------------------------
    def fold_in(self, history: History, weights: Sequence[float] | None = None):
        """Per-user state for live scoring, computed from a history (oldest first) and cached by the
        live service until that user's next event: ALS solves for the user's factor vector here.
        None (the default): the model keeps no user state and `score_live` reads the history."""
        return None

    def score_live(self, history: History, weights: Sequence[float] | None = None, state=None) -> np.ndarray:
        """Scores of all items for a live user: from `state` (what `fold_in` returned for this
        history) when the model keeps one, else from the history, as `score` does."""
        return self.score(history, weights=weights)

    def recommend(
        self,
        history: History,
        k: int = 10,
        exclude: Sequence[int] | None = None,
        weights: Sequence[float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (rows, scores), best first; rows in `exclude` are never returned."""
        if k <= 0:
            raise ValueError(f"Expected k > 0, got {k}")
        scores = np.asarray(self.score(history, weights=weights), dtype=np.float64).copy()
        if exclude is not None and len(exclude):
            scores[self._check_rows(exclude, "exclude")] = -np.inf
        k = min(k, self.n_items)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        top = top[np.isfinite(scores[top])]
        return top, scores[top]

    # Persistence ---------------------------------------------------------------------------
    def save(self, path: Path | str) -> None:
        """Write the model to the directory `path` (npz with allow_pickle=False + JSON config)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        arrays, config = self._state()
        np.savez(path / "arrays.npz", **arrays)
        (path / "config.json").write_text(json.dumps({"class": type(self).__name__, **config}, indent=1))

    @classmethod
    def load(cls, path: Path | str) -> "Recommender":
        path = Path(path)
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"No saved model in {path} (expected config.json and arrays.npz)")
        config = json.loads((path / "config.json").read_text())
        saved = config.pop("class")
        if saved != cls.__name__:
            raise ValueError(f"Expected a saved {cls.__name__} in {path}, got {saved}")
        with np.load(path / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return cls._from_state(arrays, config)

    @abstractmethod
    def _state(self) -> tuple[dict[str, np.ndarray], dict]:
        """(arrays, json-able config) that `_from_state` turns back into the model."""

    @classmethod
    @abstractmethod
    def _from_state(cls, arrays: dict[str, np.ndarray], config: dict) -> "Recommender": ...

    # Checks --------------------------------------------------------------------------------
    def _require_fitted(self) -> None:
        if self.n_items <= 0:
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit(interactions) or load(path) first")

    def _check_rows(self, rows, what: str) -> np.ndarray:
        arr = np.asarray(rows, dtype=np.int64).ravel()
        if arr.size and (arr.min() < 0 or arr.max() >= self.n_items):
            bad = arr[(arr < 0) | (arr >= self.n_items)][:5].tolist()
            raise ValueError(f"Expected {what} rows in 0..{self.n_items - 1}, got {bad}")
        return arr

    def _check_history(self, history, weights) -> tuple[np.ndarray, np.ndarray | None]:
        self._require_fitted()
        h = self._check_rows(history if history is not None else [], "history")
        if weights is None:
            return h, None
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.shape != h.shape:
            raise ValueError(f"Expected one weight per history event ({h.size}), got {w.size}")
        return h, w


def recency_weights(n: int, half_life: float) -> np.ndarray:
    """Weights for n events oldest first: the newest is 1, halving every `half_life` steps back."""
    if n == 0:
        return np.zeros(0)
    age = np.arange(n - 1, -1, -1, dtype=np.float64)
    return np.power(0.5, age / half_life) if half_life > 0 else np.ones(n)
