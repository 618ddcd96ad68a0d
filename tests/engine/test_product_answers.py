"""Real product answers: the facts of a shown product, its sizes, attributes, side-by-sides."""
from __future__ import annotations

import pytest

from assistant.explain import format_price
from tests.engine.conftest import PRODUCTS, build_engine
from tests.engine.test_lists import CLEANSERS, HISTORY


@pytest.fixture
def shop(tmp_path):
    return build_engine(tmp_path, products=CLEANSERS, history=HISTORY)


def test_tell_me_more_gives_the_products_facts(engine):
    shown = engine.chat("matte lipstick", session_id="s").products
    second = shown[1]
    answer = engine.chat("tell me more about the second one", session_id="s").reply
    assert "doesn't say whether" not in answer            # today: "... is more."
    assert second["title"] in answer and second["brand"] in answer
    assert f"price: {format_price(second['price'], 'USD')}" in answer
    description = next(p[5] for p in PRODUCTS if p[0] == second["id"])
    assert description in answer                          # the catalog text itself


def test_tell_me_more_lists_the_cards_other_sizes(shop):
    products = shop.chat("cetaphil gentle skin cleanser", session_id="s").products
    pos, card = next((i, p) for i, p in enumerate(products, 1) if p["variants"])
    answer = shop.chat(f"tell me more about number {pos}", session_id="s").reply
    assert "Also available as" in answer and all(v["title"][:40] in answer for v in card["variants"][:3])
    sizes = shop.chat(f"what sizes does number {pos} come in?", session_id="s").reply
    assert all(v["title"][:40] in sizes for v in card["variants"][:3])


def test_an_attribute_the_catalog_does_not_state_is_said_plainly(engine):
    engine.chat("matte lipstick", session_id="s")
    answer = engine.chat("is the first one vegan?", session_id="s").reply
    assert "doesn't say" in answer and "vegan" in answer


def test_compare_the_first_two_is_a_side_by_side(engine):
    shown = engine.chat("matte lipstick", session_id="s").products
    answer = engine.chat("compare the first two", session_id="s").reply
    a, b = shown[0], shown[1]
    assert a["title"][:40] in answer and b["title"][:40] in answer
    price_line = next(line for line in answer.splitlines() if line.startswith("price:"))
    assert "|" in price_line
    cheaper = 1 if a["price"] < b["price"] else 2
    assert f"Number {cheaper} is the cheaper one." in answer
    brand_line = next(line for line in answer.splitlines() if line.startswith("brand:"))
    assert brand_line == f"brand: {a['brand']} | {b['brand']}"
