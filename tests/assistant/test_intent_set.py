"""The annotated intent sets: shape, and a regression floor for the deterministic parser."""
from __future__ import annotations

from assistant.intent_eval import FIELDS, field_correct, load_rows, run, summarize, term_match
from assistant.intent import parse_intent
from assistant.schema import Intent

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"


def test_the_set_is_big_enough_and_valid(intent_rows):
    assert len(intent_rows) >= 80
    assert sum(1 for r in intent_rows if r["expected"].get("language") == "zh") >= 20
    sessions = {r["session"] for r in intent_rows if r.get("session")}
    assert len(sessions) >= 3
    assert len({r["id"] for r in intent_rows}) == len(intent_rows)
    for row in intent_rows:
        assert set(row["expected"]) <= set(FIELDS), row["id"]
        Intent.model_validate({k: v for k, v in row["expected"].items()})   # expected values are valid


def test_scoring_rules():
    assert term_match("long lasting", "long-lasting") and term_match("small", "small size")
    assert term_match("shimmery", "shimmer") and not term_match("pink", "red")
    assert field_correct("price_max", 11, 10.995) and not field_correct("price_max", None, 0)
    assert field_correct("search_text", "floral perfume", "floral perfumes gift")
    assert not field_correct("exclude", ["black"], ["black", "pink"])       # an extra exclusion is wrong
    assert field_correct("refers_to", [1, 3], [3, 1])
    assert field_correct("exclude", ["black", "gray"], ["black", "grey"])     # one colour, two spellings
    assert not field_correct("must_have", ["grey"], ["navy"])


def test_deterministic_parser_floor(intent_rows):
    """Regression floor (the figures in benchmarks/README.md are higher)."""
    rules = lambda m, h: parse_intent(m, None, history=h)  # noqa: E731
    summary = summarize(run(intent_rows, rules), intent_rows)
    assert summary["field_accuracy"] >= 0.97 and summary["non_default_field_accuracy"] >= 0.93
    holdout = load_rows(DATA / "intents_holdout.jsonl")
    assert summarize(run(holdout, rules), holdout)["field_accuracy"] >= 0.93
