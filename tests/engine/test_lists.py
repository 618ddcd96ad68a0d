"""Lists worth reading: one card per product (sizes become variants), nothing from the cart or
the purchases offered again, and broad requests varied across brands."""
from __future__ import annotations

import pytest

from assistant.engine import ListPolicy
from tests.engine.conftest import build_engine

CETAPHIL = "Cetaphil"
CLEANSERS = [
    ("C1", "Cetaphil Gentle Skin Cleanser, For all skin types, 4 FL OZ", CETAPHIL, "Cleanser", 9.0,
     "Gentle cleanser for sensitive skin."),
    ("C2", "Cetaphil Gentle Skin Cleanser 8 fl oz", CETAPHIL, "Cleanser", 12.0, "Gentle cleanser for sensitive skin."),
    ("C3", "Cetaphil Gentle Skin Cleanser - 16 fl oz", CETAPHIL, "Cleanser", 15.0, "Gentle cleanser for sensitive skin."),
    ("C4", "Cetaphil Gentle Skin Cleanser, 16-Ounce Bottles (Pack of 2)", CETAPHIL, "Cleanser", 25.0,
     "Gentle cleanser for sensitive skin."),
    ("C5", "Cetaphil Gentle Skin Cleanser, 4.0 -Ounce Bottles (Pack of 6)", CETAPHIL, "Cleanser", 40.0,
     "Gentle cleanser for sensitive skin."),
    ("O1", "CeraVe Hydrating Facial Cleanser", "CeraVe", "Cleanser", 14.0, "Hydrating gentle cleanser."),
    ("O2", "La Roche-Posay Toleriane Purifying Foaming Cleanser", "La Roche-Posay", "Cleanser", 16.0, "Foaming cleanser."),
    ("O3", "Vanicream Facial Cleanser", "Vanicream", "Cleanser", 10.0, "Cleanser for sensitive skin."),
    ("O4", "Simple Micellar Cleansing Water", "Simple", "Cleanser", 7.0, "Micellar water that cleans gently."),
    ("O5", "Neutrogena Fresh Foaming Cleanser", "Neutrogena", "Cleanser", 8.0, "Foaming face wash."),
    ("M1", "Matte Red Lipstick", "Rouge", "Lipstick", 12.0, "Long-wearing matte red lipstick."),
    ("M2", "Hydrating Face Cream", "Dermi", "Skin", 25.0, "Fragrance-free face cream."),
]
HISTORY = {"a": ["C1", "C3", "O1"], "b": ["C2", "O3"], "c": ["M1", "M2"], "d": ["C4", "O2"]}


@pytest.fixture
def shop(tmp_path):
    return build_engine(tmp_path, products=CLEANSERS, history=HISTORY)


def _listed(products):
    return [p["id"] for p in products] + [v["id"] for p in products for v in p["variants"]]


def test_something_cheaper_shows_one_card_per_product_and_not_the_cart(shop):
    shop.record_event("me", "C2", "cart")
    first = shop.chat("a gentle cleanser", user_id="me", session_id="s")
    cheaper = shop.chat("something cheaper", user_id="me", session_id="s")
    for turn in (first, cheaper):
        cards = [p for p in turn.products if p["title"].startswith(CETAPHIL)]
        assert len(cards) <= 1, [p["title"] for p in turn.products]      # five sizes: one card
        assert "C2" not in _listed(turn.products)                           # in the cart: not a find
        assert len(set(_listed(turn.products))) == len(_listed(turn.products))
    card = next(p for p in first.products if p["title"].startswith(CETAPHIL))
    assert {v["id"] for v in card["variants"]} <= {"C1", "C3", "C4", "C5"} and card["variants"]
    assert set(card["variants"][0]) == {"id", "title", "price"}
    assert cheaper.intent["price_max"] is not None
    assert all(p["price"] <= cheaper.intent["price_max"] for p in cheaper.products)
    assert all(v["price"] <= cheaper.intent["price_max"] for p in cheaper.products for v in p["variants"])


def test_bought_items_and_their_other_sizes_are_not_new_finds(shop):
    shop.record_event("buyer", "C3", "purchase")
    shop.record_event("buyer", "O1", "cart")
    listed = _listed(shop.recommend("buyer", k=8))
    assert not {"C1", "C2", "C3", "C4", "C5", "O1"} & set(listed)


def test_chat_does_not_offer_carted_items(shop):
    shop.record_event("me", "O1", "cart")
    assert "O1" not in _listed(shop.chat("hydrating facial cleanser", user_id="me", session_id="x").products)


def test_a_broad_request_is_varied_across_brands(tmp_path):
    plain = build_engine(tmp_path / "a", products=CLEANSERS, history=HISTORY)
    plain.lists = ListPolicy(collapse_variants=False, diversity=0.0)
    varied = build_engine(tmp_path / "b", products=CLEANSERS, history=HISTORY)
    before = plain.chat("gentle skin cleanser", session_id="s").products
    after = varied.chat("gentle skin cleanser", session_id="s").products
    assert sum(p["brand"] == CETAPHIL for p in before) >= 3            # today: a list of one product
    assert sum(p["brand"] == CETAPHIL for p in after) == 1
    assert len({p["brand"] for p in after}) == len(after) == 5
    assert after[0]["id"] == before[0]["id"]                            # the best match still leads
