"""A budget on a catalog without prices: the note is said once per conversation, briefly, and the
shopper still gets products (issue 14: it used to open every answer)."""
from __future__ import annotations

import json

import pytest

from assistant.engine import NO_PRICE_NOTE, NO_PRICE_SORT_NOTE

UNPRICED = [
    ("S1", "Curl Defining Shampoo", "Locks", "Sulfate-free shampoo for curly hair."),
    ("S2", "Volume Shampoo", "Locks", "Volumising shampoo for fine hair."),
    ("S3", "Argan Oil Conditioner", "Oasis", "Conditioner with argan oil for dry hair."),
    ("F1", "Hydrating Face Cream", "Dermi", "Fragrance-free hydrating face cream for dry skin."),
    ("C1", "Gentle Foaming Cleanser", "Dermi", "A gentle cleanser for dry skin."),
]


@pytest.fixture
def unpriced_engine(tmp_path):
    from assistant.engine import Engine
    from assistant.settings import Settings

    path = tmp_path / "noprice.jsonl"
    path.write_text("".join(json.dumps({"id": i, "title": t, "brand": b, "description": d}) + "\n"
                            for i, t, b, d in UNPRICED), encoding="utf-8")
    eng = Engine(Settings(home=tmp_path / "home", embedder="hashing", llm="none", default_catalog="noprice"))
    eng.import_catalog(path, "noprice")
    return eng


def test_no_price_note_once_per_conversation_and_still_answers(unpriced_engine):
    first = unpriced_engine.chat("a gentle cleanser for dry skin under $20", session_id="conv-1")
    assert first.reply.startswith(NO_PRICE_NOTE["en"])
    assert first.products, "the shopper still gets an answer without the price limit"
    assert len(NO_PRICE_NOTE["en"]) < 60, "the note is brief"

    again = unpriced_engine.chat("shampoo under $15", session_id="conv-1")
    assert again.products
    assert NO_PRICE_NOTE["en"].strip() not in again.reply

    other = unpriced_engine.chat("shampoo under $15", session_id="conv-2")
    assert other.reply.startswith(NO_PRICE_NOTE["en"]), "a new conversation is told once too"


def test_no_note_without_a_budget(unpriced_engine):
    out = unpriced_engine.chat("a gentle cleanser for dry skin", session_id="conv-3")
    assert out.products
    assert NO_PRICE_NOTE["en"].strip() not in out.reply


def test_chinese_note(unpriced_engine):
    out = unpriced_engine.chat("洗发水，不超过100元", session_id="conv-zh")
    assert out.reply.startswith(NO_PRICE_NOTE["zh"])
    assert out.products


def test_cheaper_on_a_catalog_without_prices_says_so_once_and_keeps_the_relevance_order(unpriced_engine):
    # "something cheaper" on the demo (no prices) re-ordered the list by a price nobody has, silently
    first = unpriced_engine.chat("shampoo", session_id="conv-s")
    cheaper = unpriced_engine.chat("something cheaper", session_id="conv-s")
    assert cheaper.reply.startswith(NO_PRICE_SORT_NOTE["en"]) and len(NO_PRICE_SORT_NOTE["en"]) < 60
    assert cheaper.intent["sort"] == "price_asc", "the reading stays what the shopper asked"
    assert [p["id"] for p in cheaper.products][:2] == [p["id"] for p in first.products][:2]   # relevance order
    again = unpriced_engine.chat("cheapest shampoo", session_id="conv-s")
    assert NO_PRICE_SORT_NOTE["en"].strip() not in again.reply and NO_PRICE_NOTE["en"].strip() not in again.reply
