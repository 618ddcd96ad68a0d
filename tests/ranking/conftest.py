"""Fixtures for ranking tests; the helpers and the checkerboard live in rk_fixtures.py."""
from __future__ import annotations

import numpy as np
import pytest
from rk_fixtures import N_ITEMS, TinyCatalog, checkerboard_interactions, group_embeddings, make_product

from ranking.data import Interactions


@pytest.fixture
def checkerboard() -> Interactions:
    return checkerboard_interactions()


@pytest.fixture
def embeddings() -> np.ndarray:
    return group_embeddings()


@pytest.fixture
def tiny_catalog(embeddings) -> TinyCatalog:
    return TinyCatalog("tiny", [make_product(i) for i in range(N_ITEMS)], embeddings)
