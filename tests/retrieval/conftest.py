"""Fixtures for retrieval tests: a synthetic catalog with a known structure, an EphemeralClient."""
from __future__ import annotations

import random

import pytest

BRANDS = ["Acme", "Lumina", "Verde", "Nordic", "Zenith", "Orbit"]
CATEGORIES = {
    "Shampoo": ["shampoo", "hair wash", "conditioning shampoo"],
    "Lipstick": ["lipstick", "lip color", "matte lipstick"],
    "Serum": ["face serum", "vitamin c serum", "night serum"],
    "Sneakers": ["running sneakers", "trainers", "walking shoes"],
    "Backpack": ["backpack", "travel bag", "laptop backpack"],
}
COLORS = ["black", "white", "red", "blue", "green", "pink"]
GENDERS = ["Women", "Men", "Unisex"]


def make_products(n: int = 300, seed: int = 0, unknown_price_every: int = 17):
    """n products with brand, category, price (some unknown), colour and gender attributes."""
    from retrieval.catalog import Product

    rng = random.Random(seed)
    out = []
    cats = list(CATEGORIES)
    for i in range(n):
        cat = cats[i % len(cats)]
        brand = BRANDS[(i // len(cats)) % len(BRANDS)]
        color = COLORS[rng.randrange(len(COLORS))]
        noun = rng.choice(CATEGORIES[cat])
        out.append(Product(
            id=f"p{i:05d}",
            title=f"{brand} {color} {noun} model {rng.randrange(100, 999)}",
            description=f"A {color} {noun} by {brand}.",
            brand=brand,
            category=cat,
            price=None if i % unknown_price_every == 0 else round(rng.uniform(3, 200), 2),
            currency="USD",
            rating=round(rng.uniform(1, 5), 1),
            attributes={"color": color, "gender": GENDERS[i % 3]},
        ))
    return out


@pytest.fixture(scope="session", name="make_products")
def make_products_fixture():
    """The factory itself, for tests that need their own catalog."""
    return make_products


@pytest.fixture(scope="session")
def chroma_client():
    from retrieval.store import make_chroma_client

    return make_chroma_client(ephemeral=True)


@pytest.fixture
def registry(tmp_path, chroma_client, hashing_embedder):
    """A registry on a fresh root; its collections carry a fresh registry id, so tests never collide."""
    from retrieval.registry import CatalogRegistry

    return CatalogRegistry(tmp_path / "catalogs", chroma_client, hashing_embedder)


@pytest.fixture(scope="session")
def products():
    return make_products(300)


@pytest.fixture(scope="session")
def loaded(tmp_path_factory, chroma_client, hashing_embedder, products):
    """(registry, catalog, searcher) over the 300-product synthetic catalog, shared read-only."""
    from retrieval.registry import CatalogRegistry

    reg = CatalogRegistry(tmp_path_factory.mktemp("shared") / "catalogs", chroma_client, hashing_embedder)
    reg.import_products("synth", products)
    return reg, reg.load("synth"), reg.searcher("synth")
