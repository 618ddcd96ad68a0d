"""The filter index of a catalog version is built once and loaded afterwards (bench_scale: 16.7 s
at every start at 100k products, the next cost after BM25 to persist)."""
from __future__ import annotations

import numpy as np
import pytest

from retrieval import filters as flt
from retrieval.catalog import Catalog
from retrieval.filters import FilterIndex, filter_index

FILTERS = [
    {"max_price": 60}, {"brand": "acme"}, {"exclude_brand": ["verde"]}, {"category": "shampoo"},
    {"product_type": ["lipstick"]}, {"color": ["red"]}, {"audience": ["women"]},
    {"must_have": ["serum"]}, {"exclude": ["red"]}, {"attributes": {"gender": "men"}},
    {"min_price": 20, "max_price": 120, "color": ["blue", "black"], "exclude": ["matte"]},
]


def _catalog(products, path):
    embeddings = np.zeros((len(products), 4), dtype=np.float32)
    return Catalog("synth", 1, products, embeddings, {"collection": "c", "embedder": "hashing"}, path=path)


def _masks(index):
    return [index.mask(f) for f in FILTERS]


def test_second_load_does_not_rebuild_and_gives_identical_masks(tmp_path, make_products, monkeypatch):
    products = make_products(300)
    first = filter_index(_catalog(products, tmp_path / "v1"))
    assert (tmp_path / "v1" / "filters" / "meta.json").exists()

    def no_build(self, products, texts):
        raise AssertionError("the saved filter index should have been loaded, not rebuilt")

    monkeypatch.setattr(FilterIndex, "_build", no_build)
    again = filter_index(_catalog(products, tmp_path / "v1"))   # a new catalog object: a later start
    assert again is not first
    for a, b in zip(_masks(first), _masks(again)):
        assert a.tolist() == b.tolist()
    assert any(m.any() for m in _masks(again)) and not all(m.all() for m in _masks(again))
    for name in flt._ARRAYS:
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    for name in flt._STRINGS + flt._SETS:
        assert getattr(first, name) == getattr(again, name)


def test_changed_catalog_rebuilds(tmp_path, make_products):
    products = make_products(300)
    filter_index(_catalog(products, tmp_path / "v1"))
    changed = list(products)
    changed[0] = changed[0].model_copy(update={"price": 1.0, "brand": "Quirk", "title": "Quirk red teapot"})
    builds = []
    real = FilterIndex._build

    def counting(self, *a):
        builds.append(1)
        return real(self, *a)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(FilterIndex, "_build", counting)
        index = filter_index(_catalog(changed, tmp_path / "v1"))
    assert builds == [1]
    assert index.mask({"brand": "quirk"}).tolist() == [True] + [False] * 299
    assert index.mask({"max_price": 1.0})[0]
    # and the rebuilt copy is what the next start loads
    assert filter_index(_catalog(changed, tmp_path / "v1")).mask({"brand": "quirk"})[0]


def test_format_change_rebuilds(tmp_path, make_products, monkeypatch):
    products = make_products(50)
    before = FilterIndex.fingerprint(_catalog(products, None))
    monkeypatch.setattr(flt, "FILTER_FORMAT", flt.FILTER_FORMAT + 1)
    assert FilterIndex.fingerprint(_catalog(products, None)) != before


def test_unwritable_directory_keeps_the_index_in_memory(tmp_path, make_products):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    index = filter_index(_catalog(make_products(30), blocker))
    assert index.n == 30 and index.mask({"max_price": 1000}).sum() > 0


def test_coded_masks_equal_a_per_product_test(make_products):
    """Colours, types, audiences, categories and brands are tested once per distinct value; the masks
    must be what testing every product gives (products without a brand or category included)."""
    from retrieval import facets as fx
    from retrieval.catalog import Product

    products = make_products(240) + [
        Product(id="nb1", title="Acme red lipstick without a brand column", price=9.0),
        Product(id="nb2", title="Soft shampoo, by Verde", price=12.0, category=None),
        Product(id="nb3", title="Zenith backpack", price=40.0, brand="", attributes={"color": "pink"}),
    ]
    index = FilterIndex(_catalog(products, None))
    n = len(products)
    for names in (["red"], ["blue", "black"], ["navy"], ["pink"]):
        wanted = set().union(*({fx.COLOURS.get(fx.fold(x), fx.fold(x))} | fx.COLOUR_FAMILY.get(
            fx.COLOURS.get(fx.fold(x), fx.fold(x)), set()) for x in names))
        assert index.colour_mask(names).tolist() == [bool(index.colours[i] & wanted) for i in range(n)]
    for names in (["lipstick"], ["shampoo", "serum"], ["sneaker"]):
        keys = set().union(*(fx.resolve_type(x, index.facets) for x in names))
        assert index.type_mask(names).tolist() == [bool(index.types[i] & keys) for i in range(n)]
    assert index.audience_mask(["women"]).tolist() == [bool(index.audiences[i] & {"women", "unisex"}) for i in range(n)]
    for brand, anywhere in (("acme", False), ("acme", True), ("verde", True), ("zenith", False)):
        want = [(b == brand) if b else (f" {brand} " in t if anywhere else t.startswith(f" {brand} "))
                for b, t in zip(index.brand, index.title_key)]
        assert index.brand_mask([brand], anywhere_in_title=anywhere).tolist() == want
        assert sum(want) > 0
    in_shampoo = index.mask({"category": "shampoo"}).tolist()
    assert in_shampoo == [("shampoo" in index.category[i]) or (not index.has_category[i] and " shampoo " in index.title_phrase[i])
                          for i in range(n)]
    assert in_shampoo[-2] and not in_shampoo[-3]     # the category-less shampoo is found by its title
    assert index.mask({"attributes": {"gender": "men"}}).tolist() == [
        (p.attributes or {}).get("gender") in ("Men", "Unisex") for p in products]


def test_mentions_leave_out_only_absences_and_equal_counting_every_holder(make_products):
    from retrieval.lexical import phrase_key

    products = make_products(120)
    texts = ["Sulfate-free shampoo", "Shampoo with sulfates", "No sulfates, no parabens", "Sulfate free but sulfates added",
             "Free shipping sulfate shampoo", "Zero sugar", "Non sulfate formula", "Sulfates free of parabens"]
    products = [p.model_copy(update={"title": t, "description": ""}) for p, t in zip(products, texts)] + products[len(texts):]
    index = FilterIndex(_catalog(products, None))
    for term in ("sulfates", "parabens", "sugar", "red", "shampoo"):
        key = phrase_key(term)
        word = key.strip()
        absent = [f" {a} " for a in (f"{word} free", f"no {word}", f"without {word}", f"free of {word}",
                                     f"free from {word}", f"non {word}", f"zero {word}")]
        want = [d.count(key) > sum(d.count(a) for a in absent) for d in index.doc_keys]   # the old per-holder count
        assert index.mentions(term).tolist() == want, term
        assert index.contains(term).tolist() == [key in d for d in index.doc_keys]
    assert index.mentions("sulfates").tolist()[:8] == [False, True, False, True, True, False, False, False]
