"""Fixtures for the assistant tests: fake LLMs, small product lists, the intent sets."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"


def intent_json(**fields) -> str:
    """A complete LLM intent reply with defaults for every field not given."""
    base = {"action": "search", "search_text": "", "category": None, "brand": None, "price_min": None,
            "price_max": None, "currency": None, "must_have": [], "exclude": [], "recipient": None,
            "occasion": None, "sort": "relevance", "refers_to": []}
    base.update(fields)
    return json.dumps(base, ensure_ascii=False)


@pytest.fixture
def reply():
    """reply(**fields) -> a complete LLM intent JSON string."""
    return intent_json


@pytest.fixture
def fake_llm():
    from assistant.llm import FakeLLM

    return FakeLLM()


@pytest.fixture
def lipsticks():
    return [
        {"id": "L1", "title": "Maybelline SuperStay Matte Ink Liquid Lipstick, Pioneer", "price": 9.99,
         "currency": "USD", "brand": "Maybelline",
         "description": "Long-lasting matte liquid lipstick. Up to 16 hour wear. Waterproof formula.",
         "attributes": {"finish": "matte", "color": "red"}},
        {"id": "L2", "title": "NYX Soft Matte Lip Cream, Rome", "price": 6.5, "currency": "USD", "brand": "NYX",
         "description": "Creamy matte lip color. Vegan and cruelty-free.", "attributes": {}},
        {"id": "L3", "title": "L'Oreal Colour Riche Matte Lipstick", "price": 12.0, "currency": "USD",
         "brand": "L'Oreal", "description": "Matte lipstick with argan oil. Not waterproof.", "attributes": {}},
        {"id": "L4", "title": "MAC Matte Lipstick, Ruby Woo", "price": 19.0, "currency": "USD", "brand": "MAC",
         "description": "", "attributes": {}},
    ]


@pytest.fixture(scope="session")
def intent_rows():
    from assistant.intent_eval import load_rows

    return load_rows(DATA / "intents.jsonl")
