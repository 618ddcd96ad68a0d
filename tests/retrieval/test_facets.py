"""Facets learned at import from each catalog's own columns: the bundled demo (brand + Amazon
category paths), Adidas (category, breadcrumbs, colour, list / sale price, availability) and
Myntra (brand, gender, colour; the type only in the name). Adidas and Myntra are read from
../shared/data (skipped when absent; they are not vendored)."""
from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from retrieval.catalog import Product, join_item_meta, read_catalog
from retrieval.facets import brand_aliases, fold, learn_facets, product_type_keys, resolve_type, title_head

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"


def _slice(src: Path, dst: Path, n: int) -> Path:
    with open(src, newline="", encoding="utf-8") as fin, open(dst, "w", newline="", encoding="utf-8") as fout:
        rows = csv.reader(fin)
        csv.writer(fout).writerows(itertools.islice(rows, n + 1))
    return dst


def test_fold_and_brand_aliases():
    assert fold("L'Oréal Paris") == "loreal paris" and fold("e.l.f. Cosmetics") == "elf cosmetics"
    assert {"maybelline", "maybelline new york"} <= brand_aliases("Maybelline New York")
    assert "loreal" in brand_aliases("L'Oreal Paris")


def test_title_head_nouns():
    assert title_head("Women Black Sneakers") == ["sneaker", "black sneaker"]
    assert title_head("Men Navy Blue Solid Polo T-shirt") == ["t shirt"]
    assert title_head("Beach Shorts") == ["short", "beach short"]
    assert title_head("Lipstick, 0.15 oz")[0] == "lipstick"


def test_demo_catalog_facets_from_item_meta():
    products, _ = read_catalog(REPO / "data" / "beauty" / "items.tsv.gz", default_title="item {id}")
    products, n = join_item_meta(products, REPO / "data" / "beauty" / "item_meta.tsv.gz")
    assert n == 12101 and len(products) == 12101
    assert sum(p.brand is not None for p in products) == 7417   # non-empty brand cells in item_meta.tsv
    facets = learn_facets(products)
    assert facets.brands["OPI"] >= 200 and facets.brand("loreal") == "L'Oreal Paris"
    assert facets.brand("L'ORÉAL PARIS") == "L'Oreal Paris" and facets.brand("no such brand") is None
    for t in ("nail polish", "shampoo", "lipstick", "mascara", "conditioner", "cleanser"):
        assert facets.has_type(t), t
    assert resolve_type("perfume", facets) >= {"eau de parfum", "eau de toilette"}
    assert facets.price == {} and facets.audiences == {}      # the set has neither
    opi = next(p for p in products if p.id == "B004756YJA")
    assert opi.brand == "OPI" and product_type_keys(opi, facets) == {"nail polish"}


@pytest.mark.skipif(not (SHARED / "adidas-usa" / "products.csv").exists(), reason="../shared/data not present")
def test_adidas_facets(tmp_path):
    products, _ = read_catalog(_slice(SHARED / "adidas-usa" / "products.csv", tmp_path / "a.csv", 300))
    facets = learn_facets(products)
    assert set(facets.audiences) >= {"women", "men"} and facets.colour_source == "column"
    assert set(facets.colours) >= {"black", "white"}
    assert facets.has_type("shoe") and facets.type_source == "category+title"
    assert facets.price["currency"] == "USD" and 0 < facets.price["min"] <= facets.price["median"]
    assert facets.n_discounted > 0                       # original_price above selling_price
    assert set(facets.availability) <= {"in_stock", "out_of_stock"}
    assert facets.brands == {"adidas": 300}


@pytest.mark.skipif(not (SHARED / "myntra-fashion" / "products.csv").exists(), reason="../shared/data not present")
def test_myntra_facets(tmp_path):
    products, _ = read_catalog(_slice(SHARED / "myntra-fashion" / "products.csv", tmp_path / "m.csv", 1500))
    facets = learn_facets(products)
    assert facets.type_source == "title" and facets.has_type("t-shirt") and facets.has_type("kurta")
    assert set(facets.audiences) >= {"women", "men", "boys"}
    assert len(facets.brands) > 50 and facets.colour_source == "column"
    assert facets.price["n"] == 1500 and facets.n_discounted == 0


def test_discount_and_stock_from_columns():
    p = Product(id="1", title="Run Shoes", price=60, attributes={"list_price": "$80", "availability": "OutOfStock"})
    facets = learn_facets([p, Product(id="2", title="Run Shoes", price=80)])
    assert facets.n_discounted == 1 and facets.availability == {"out_of_stock": 1, "unknown": 1}
