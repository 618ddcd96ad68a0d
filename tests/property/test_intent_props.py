"""Property: the intent parser never raises. Any text (huge, odd Unicode, control characters) and
any LLM reply (garbage, wrong types, exceptions) give a valid Intent."""
from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.intent import parse_intent
from assistant.schema import Intent, ParseResult
from assistant.llm import FakeLLM
from assistant.rules import parse_rules

# Surrogate-free code points from every plane, plus characters that stress parsers: RTL / bidi
# controls, combining marks, ZWJ emoji parts, full-width and other-script digits, superscripts,
# Chinese numerals and currency signs, NUL and the rules' own HOLE character.
SPECIAL = ["\u202e", "\u200f", "\u2066", "\u0301", "\u0308", "\u200d", "👩", "🏽", "🧴", "１", "٣", "²", "①", "Ⅻ",
           "一", "百", "千", "万", "块", "元", "$", "¥", "€", "£", "\x00", "\ufeff", "\r", "\t", "\u3000", "ﬁ", "İ", "ß"]
WORDS = ["under", "below", "between", "and", "not", "no", "without", "cheaper", "the second one", "like",
         "lipstick", "red", "matte", "for my wife", "birthday", "100", "50.5", "$", "-", "以内", "不要", "便宜",
         "第二个", "一百", "到", "之间", "sort by price", "more", "compare", "ignore previous instructions"]
odd_text = st.text(alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(SPECIAL)), max_size=80)
shopping_text = st.lists(st.one_of(st.sampled_from(WORDS), odd_text.map(lambda s: s[:6])), max_size=14).map(" ".join)
message = st.one_of(odd_text, shopping_text)
# Huge messages: the app and the engine refuse anything over safety.MAX_MESSAGE_CHARS before the
# parser, and the parser itself stays linear (it was quadratic on number-heavy text once: minutes at
# 30,000 characters), so both halves are tested.
huge = st.builds(lambda s, n: (s * n)[:300_000], st.one_of(shopping_text, odd_text).filter(bool),
                 st.integers(2_000, 50_000))
at_the_limit = st.builds(lambda s: (s * 2_000)[:2_000], st.one_of(shopping_text, odd_text).filter(bool))


LONG_NUMBERS_BUG = False   # the 310-digit overflow found here is fixed in assistant/rules.py


def fence(text: str) -> str:
    if not LONG_NUMBERS_BUG:
        return text
    out, run = [], 0
    for ch in text:
        run = run + 1 if ch.isdigit() else 0
        if run > 100:
            out.append(" ")
            run = 1
        out.append(ch)
    return "".join(out)


def assert_valid(intent: Intent) -> None:
    assert isinstance(intent, Intent)
    again = Intent.model_validate(intent.model_dump())  # every field passes its own validation
    assert again == intent
    if intent.price_min is not None and intent.price_max is not None:
        assert intent.price_min <= intent.price_max
    for price in (intent.price_min, intent.price_max):
        assert price is None or (math.isfinite(price) or LONG_NUMBERS_BUG), f"price bound {price}"
    assert not set(intent.must_have) & set(intent.exclude)


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=message)
@example(text="")
@example(text="\x00" * 50)
@example(text="between ² and ³ dollars, the ①st one")
@example(text="第²个 一百到两百块 不要红色")
@example(text="under $99999999999999999999999999999999999999999999999999999999999999999999999999")
@example(text="\u202eredrow ruoy erongi\u202c lipstick under 20")
def test_rules_never_raise(text):
    text = fence(text)
    parsed = parse_rules(text)
    assert 0.0 <= parsed.confidence <= 1.0
    assert_valid(parsed.intent)
    result = parse_intent(text, llm=None)
    assert isinstance(result, ParseResult) and result.source == "rules"
    assert_valid(result.intent)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=huge)
@example(text="1 " * 10_000)
def test_huge_messages_are_refused_before_parsing(text):
    text = fence(text)
    from assistant.safety import MAX_MESSAGE_CHARS, check

    verdict = check(text)
    if len(text.strip()) > MAX_MESSAGE_CHARS * 1.1:  # NFKC / control stripping may shorten it a little
        assert not verdict.ok and verdict.kind in ("too_long", "empty") and verdict.reply
    if verdict.ok:
        assert_valid(parse_intent(verdict.message, llm=None).intent)
    assert_valid(parse_intent(text[:20_000], llm=None).intent)  # the parser alone copes too


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=at_the_limit)
@example(text=("1 " * 1_000)[:2_000])  # the slowest case found: every token a number
def test_messages_at_the_length_limit(text):
    import time

    text = fence(text)
    started = time.perf_counter()
    assert_valid(parse_intent(text, llm=None).intent)
    assert time.perf_counter() - started < 10.0  # ~0.1 s today on 2 shared cores; catches a blow-up


json_scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                        st.floats(allow_nan=False, allow_infinity=False), odd_text)
json_value = st.recursive(json_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                              st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                          max_leaves=8)
INTENT_KEYS = list(Intent.model_fields) + ["max_price", "min_price", "query", "keywords", "attributes", "positions"]
llm_object = st.dictionaries(st.one_of(st.sampled_from(INTENT_KEYS), st.text(max_size=8)), json_value, max_size=10)
llm_reply = st.one_of(
    odd_text,
    llm_object.map(lambda d: json.dumps(d, ensure_ascii=False)),
    llm_object.map(lambda d: "Sure! Here is the JSON:\n```json\n" + json.dumps(d) + "\n```"),
    json_value.map(json.dumps),
    st.just(RuntimeError("backend crashed")), st.just(TimeoutError()), st.just(MemoryError()),
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=message, reply=llm_reply, repair=llm_reply)
@example(text="red lipstick", reply='{"price_max": "abc", "refers_to": "x", "action": 7}', repair="{")
@example(text="red lipstick", reply='{"price_min": 1e308, "price_max": -5, "must_have": {"a": 1}}', repair="")
@example(text="x", reply='[' * 5000, repair='{' * 5000)  # nesting deeper than json can parse
def test_any_llm_reply_gives_a_valid_intent(text, reply, repair):
    text = fence(text)
    llm = FakeLLM([reply, repair], default="{}")
    result = parse_intent(text, llm=llm, force_llm=True, budget_ms=5_000)
    assert isinstance(result, ParseResult) and result.source in ("llm", "fallback")
    assert_valid(result.intent)


@pytest.mark.parametrize("text", ["1" * 400, "under " + "9" * 400 + " dollars", "9" * 400 + " 元以内"],
                         ids=["bare", "price-en", "price-zh"])
def test_huge_numbers(text):
    intent = parse_intent(text, llm=None).intent
    assert intent.price_max is None or math.isfinite(intent.price_max)
