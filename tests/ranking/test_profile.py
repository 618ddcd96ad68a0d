"""Live profiles and catalog features: decay, affinities, filters, bundles on disk."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from ranking.bundle import ModelBundle, bundle_root, current_version, read_bundle, write_bundle
from ranking.events import Event
from ranking.popularity import Popularity
from ranking.profile import CatalogFeatures, ProfileConfig, UserProfile
from retrieval.filters import SearchFilters


def catalog(products):
    return SimpleNamespace(products=products, ids=[p.id for p in products])


def prod(i, price=None, category=None, brand=None, title="thing"):
    return SimpleNamespace(id=f"p{i}", title=title, description="", price=price, category=category, brand=brand)


@pytest.fixture
def features():
    products = [prod(0, 5.0, "Lipstick", "Rouge", "red matte lipstick"), prod(1, 15.0, "lipstick", "rouge"),
                prod(2, 30.0, "Shampoo", "Clean", "shampoo for dry hair"), prod(3, None, "Shampoo", None),
                prod(4, 50.0, None, "Clean"), prod(5, 70.0, "Nail polish", "Rouge")]
    return CatalogFeatures(catalog(products), price_bands=5)


def test_codes_ignore_case_and_keep_display_names(features):
    assert features.categories == ["Lipstick", "Shampoo", "Nail polish"]
    assert features.category.tolist() == [0, 0, 1, 1, -1, 2]
    assert features.brand.tolist() == [0, 0, 1, -1, 1, 0]
    assert features.band[3] == -1 and features.band[0] < features.band[5]


def test_filters(features):
    assert features.filter_mask(None).all()
    assert features.filter_mask({"max_price": 20}).tolist() == [True, True, False, False, False, False]
    assert features.filter_mask({"min_price": 20}).tolist() == [False, False, True, False, True, True]
    assert features.filter_mask({"category": "LIPSTICK"}).tolist() == [True, True, False, False, False, False]
    assert features.filter_mask({"category": "nail polish"}).tolist() == [False] * 5 + [True]
    # the one filter engine (retrieval.filters) matches whole category levels, not substrings
    assert not features.filter_mask({"category": "polish"}).any()
    assert features.filter_mask({"brand": "clean"}).tolist() == [False, False, True, False, True, False]
    assert features.filter_mask({"exclude": ["shampoo"]})[2] == np.False_
    assert features.filter_mask(SearchFilters(must_have=["matte"])).tolist() == [True] + [False] * 5


def test_interest_vector_and_affinities_decay(features):
    emb = np.eye(6, dtype=np.float32)
    cfg = ProfileConfig(half_life_hours=1.0, interest_event_half_life=1.0)
    p = UserProfile("u")
    t = 1_700_000_000.0
    p.apply(Event(user_id="u", item_id="p2", type="purchase", timestamp=t), 2, emb, features, cfg)
    p.apply(Event(user_id="u", item_id="p0", type="click", timestamp=t + 3600), 0, emb, features, cfg)
    # the older purchase decays by 0.5 (one hour) and 0.5 (one newer event): 0.25 vs click 0.5
    np.testing.assert_allclose(p.interest[[0, 2]], [0.5, 0.25])
    assert p.owned == {2} and list(p.types) == ["purchase", "click"]
    assert p.category_aff == {1: 0.5, 0: 0.5}  # shampoo 1.0 decayed by an hour, lipstick click 0.5
    aff = p.affinity_scores(features)
    assert aff[0] > aff[3] and aff.shape == (6,)
    summary = p.summary([f"p{i}" for i in range(6)], features)
    assert summary["recent"][-1] == {"item_id": "p0", "type": "click"}


def test_session_is_bounded(features):
    p = UserProfile("u")
    cfg = ProfileConfig(session_len=3)
    for i in range(5):
        p.apply(Event(user_id="u", item_id=f"p{i}", type="view", timestamp=1e9 + i), i, None, features, cfg)
    assert list(p.rows) == [2, 3, 4] and p.n_events == 5


def test_bundle_write_read_prune(tmp_path):
    from ranking.data import Interactions

    root = bundle_root(tmp_path, "cat")
    model = Popularity().fit(Interactions(3, [[0, 1, 1]]))
    versions = []
    for _ in range(3):
        path = write_bundle(root, ModelBundle({"pop": model}, {"pop": 1.0}, ["a", "b", "c"], {"note": "x"}), keep=1)
        versions.append(path.name)
    assert current_version(root) == versions[-1]
    left = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert left == [versions[-1]] and not list(root.glob(".tmp-*"))
    b = read_bundle(root)
    assert b.item_ids == ["a", "b", "c"] and b.weights == {"pop": 1.0} and b.manifest["note"] == "x"
    np.testing.assert_allclose(b.models["pop"].score([]), model.score([]))
    assert read_bundle(bundle_root(tmp_path, "none")) is None


class _CountingList(list):
    """A list that counts full passes over it."""
    passes = 0

    def __iter__(self):
        self.passes += 1
        return super().__iter__()


def test_term_masks_are_computed_once_per_term(features):
    from retrieval.filters import MASK_CACHE_TERMS as TERM_MASK_CACHE

    index = features.filter_index
    index._absence_words()     # one pass per index, not per term: taken before counting
    index.doc_keys = _CountingList(index.doc_keys)
    features.text = index.doc_keys
    want = [(" shampoo " not in t) for t in list.__iter__(features.text)]
    first = features.filter_mask({"exclude": ["shampoo"]})
    assert first.tolist() == want and features.text.passes == 1
    first[:] = False                                            # the caller's array is its own
    assert features.filter_mask({"exclude": ["SHAMPOO"]}).tolist() == want   # same term, lower-cased
    assert features.filter_mask({"must_have": ["Shampoo"]}).tolist() == [not w for w in want]
    assert features.text.passes == 1
    both = features.filter_mask({"must_have": ["matte", "lipstick"], "exclude": ["dry"], "max_price": 20})
    assert both.tolist() == [True, False, False, False, False, False] and features.text.passes == 4
    for i in range(TERM_MASK_CACHE):                            # bounded: the oldest term is evicted
        features.filter_mask({"exclude": [f"term {i}"]})
    passes = features.text.passes
    features.filter_mask({"exclude": ["shampoo"]})
    assert features.text.passes == passes + 1
