"""A budget on a catalog without prices: the note is said once per conversation, briefly, and the
shopper still gets products (issue 14: it used to open every answer)."""
from __future__ import annotations

import json

import pytest

from assistant.engine import NO_PRICE_NOTE

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
