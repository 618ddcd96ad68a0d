"""Chat with Chinese words the lexicon does not know: the message itself is searched through the
multilingual encoder (as `search` does), not dropped for a popularity list."""
from __future__ import annotations

from assistant.rules import parse_rules
from tests.engine.conftest import build_engine
from tests.retrieval.test_search import _DictEmbedder

# id, title, brand, category, price, description
ROWS = [
    ("s1", "Silk Saree with Blouse Piece", "Aura", "Sarees", 40.0, "A silk saree."),
    ("s2", "Curly Synthetic Wig for Women", "Lux", "Wigs", 30.0, "A curly wig."),
    ("s6", "Straight Bob Wig", "Lux", "Wigs", 18.0, "A short straight wig."),
    ("s3", "Analogue Watch with Leather Strap", "Tempo", "Watches", 55.0, "A leather-strap watch."),
    ("s5", "Steel Bracelet Watch for Men", "Tempo", "Watches", 65.0, "A steel watch."),
]
# the watches are what everyone buys
HISTORY = {"a": ["s3", "s5"], "b": ["s3", "s5"], "c": ["s3"], "d": ["s5", "s1"]}


def _engine(tmp_path, monkeypatch, multilingual):
    monkeypatch.setattr("assistant.engine.make_multilingual", lambda *a, **kw: multilingual)
    return build_engine(tmp_path, products=ROWS, history=HISTORY)


def test_untranslated_chinese_request_searches_with_the_chinese_message(tmp_path, monkeypatch):
    assert parse_rules("假发").intent.search_text == ""          # the lexicon knows no word of it
    fake = _DictEmbedder()
    engine = _engine(tmp_path, monkeypatch, fake)
    r = engine.chat("假发", session_id="zh")
    assert r.products, r.reply
    assert {p["id"] for p in r.products[:2]} == {"s2", "s6"}     # the wigs, not the popular watches
    assert fake.documents == len(ROWS)                           # the catalog embedded by the multilingual encoder
    # a refinement of that search ("cheaper") keeps searching for it
    cheaper = engine.chat("便宜一点", session_id="zh")
    assert cheaper.intent["action"] == "refine" and cheaper.intent["price_max"] is not None
    assert {p["id"] for p in cheaper.products[:2]} == {"s2", "s6"}


def test_without_a_multilingual_encoder_the_untranslated_request_is_not_searched(tmp_path, monkeypatch):
    engine = _engine(tmp_path, monkeypatch, None)
    r = engine.chat("假发", session_id="zh")
    assert r.products and {p["id"] for p in r.products[:2]} != {"s2", "s6"}   # nothing searched for
