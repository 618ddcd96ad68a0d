"""A tiny priced catalog + a few shoppers, served by a real Engine (hashing embedder, no LLM)."""
from __future__ import annotations

import json

import pytest

PRODUCTS = [
    # id, title, brand, category, price, description
    ("L1", "Matte Red Lipstick", "Rouge", "Lipstick", 12.0, "Long-wearing matte red lipstick. Waterproof formula."),
    ("L2", "Velvet Matte Lipstick Cherry Red", "Velvet", "Lipstick", 18.5, "Soft matte finish in cherry red."),
    ("L3", "Glossy Pink Lipstick", "Rouge", "Lipstick", 9.0, "Shiny pink lipstick with vitamin E."),
    ("L4", "Luxury Matte Lipstick Ruby", "Maison", "Lipstick", 45.0, "Premium ruby red matte lipstick."),
    ("L5", "Nude Matte Lipstick", "Velvet", "Lipstick", 15.0, "Everyday nude matte lipstick."),
    ("N1", "Red Nail Polish", "Nailz", "Nails", 7.0, "Quick dry red nail polish."),
    ("N2", "Pink Nail Polish", "Nailz", "Nails", 7.5, "Pastel pink nail polish."),
    ("N3", "Top Coat Nail Polish", "Nailz", "Nails", 8.0, "Clear glossy top coat."),
    ("S1", "Curl Defining Shampoo", "Locks", "Hair", 14.0, "Sulfate-free shampoo for curly hair."),
    ("S2", "Volume Shampoo", "Locks", "Hair", 11.0, "Volumising shampoo for fine hair."),
    ("S3", "Argan Oil Conditioner", "Oasis", "Hair", 16.0, "Conditioner with argan oil for dry hair."),
    ("F1", "Hydrating Face Cream", "Dermi", "Skin", 25.0, "Fragrance-free hydrating face cream for dry skin."),
    ("F2", "Rose Scented Face Cream", "Dermi", "Skin", 22.0, "Rich face cream with rose fragrance."),
    ("F3", "SPF 50 Sunscreen", "Sunny", "Skin", 19.0, "Broad spectrum SPF 50 sunscreen, water resistant."),
    ("P1", "Vanilla Perfume", "Aroma", "Fragrance", 60.0, "Warm vanilla eau de parfum."),
    ("P2", "Citrus Perfume", "Aroma", "Fragrance", 55.0, "Fresh citrus eau de toilette."),
]


HISTORY = {"a": ["L1", "L2", "N1"], "b": ["S1", "S3"], "c": ["L1", "L5"], "d": ["F1", "F3"]}


def build_engine(tmp_path, llm=None, products=PRODUCTS, history=HISTORY):
    """A tiny catalog in a real Engine (hashing embedder); `llm` = the intent LLM (None: rules only).
    products: (id, title, brand, category, price, description) rows; history: user -> purchases."""
    from assistant.engine import Engine
    from assistant.settings import Settings

    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "shop.jsonl"
    with path.open("w") as f:
        for pid, title, brand, cat, price, desc in products:
            f.write(json.dumps({"id": pid, "title": title, "brand": brand, "category": cat, "price": price,
                                "currency": "USD", "description": desc}) + "\n")
    eng = Engine(Settings(home=tmp_path / "home", embedder="hashing", llm="none", default_catalog="shop"),
                 llm=llm)
    eng.import_catalog(path, "shop")
    # a little shared history so popularity / co-occurrence exist
    for u, items in history.items():
        for i in items:
            eng.record_event(u, i, "purchase")
    return eng


@pytest.fixture
def engine(tmp_path):
    yield build_engine(tmp_path)
