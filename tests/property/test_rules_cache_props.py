"""Property: the rules parser's cached patterns (one per lexicon table and per catalog brand list)
match exactly what a pattern built afresh on every call matched (the code before the cache)."""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import lexicon, rules
from assistant.rules import parse_rules

NAMES = ["Glossier", "glossier", "GLOSSIER", "Rare Beauty", "rare", "MAC", "Mac", "l'oreal", "e.l.f.", "OPI",
         "Rouge", "Paint", "Cloud Paint", "c", "", "Lip", "兰蔻", "Ölçü", "ß-Beauty"]
brand_lists = st.lists(st.one_of(st.sampled_from(NAMES), st.text(max_size=10)), max_size=12)
words = st.sampled_from(NAMES + ["lipstick", "lipsticks", "red", "matte", "not", "under $20", "the second one",
                                 "不要", "口红", "无硅油", "for my wife", "cheaper", "'", "-", "s", "es"])
messages = st.one_of(st.lists(words, max_size=10).map(" ".join), st.text(max_size=40))


def fresh_matches(text: str, table: dict, plurals: bool = False):
    """assistant.rules._longest_matches as it was: the pattern compiled on every call."""
    suffix = "(?:s|es)?" if plurals else ""
    alternation = "|".join(re.escape(w) for w in sorted(set(table), key=len, reverse=True))
    pattern = re.compile(r"(?<![a-z0-9'])(" + alternation + r")" + suffix + r"(?![a-z0-9'])", re.I)
    return [(m.start(), m.end(), table[m.group(1).lower()] if m.group(1).lower() in table else table[m.group(1)])
            for m in pattern.finditer(text)]


def outcome(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - both sides must fail the same way
        return type(exc).__name__


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=messages, brands=brand_lists)
def test_cached_brand_pattern_matches_like_a_fresh_one(text, brands):
    fresh_table = dict(lexicon.BRANDS)
    for b in brands:
        if b and len(b) >= 2 and b.lower() not in rules._NOT_BRAND_WORDS:   # "Silver", "Skin Care": not brands
            fresh_table.setdefault(b.lower(), b)
    table, pattern = rules._brand_matcher(tuple(brands))
    assert dict(table) == fresh_table
    text = text.lower()
    assert outcome(rules._longest_matches, text, table, pattern=pattern) == outcome(fresh_matches, text, fresh_table)
    for tbl, plurals in ((lexicon.PRODUCTS_EN, True), (lexicon.ATTRIBUTES_EN, False), (lexicon.COLORS_EN, False)):
        assert outcome(rules._longest_matches, text, tbl, plurals) == outcome(fresh_matches, text, tbl, plurals)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=messages, brands=brand_lists)
def test_parse_does_not_depend_on_what_was_parsed_before(text, brands):
    first = outcome(parse_rules, text, brands=brands)
    rules._table_pattern.cache_clear()
    rules._brand_matcher.cache_clear()
    again = outcome(parse_rules, text, brands=iter(brands))
    if isinstance(first, str):
        assert again == first
    else:
        assert (again.intent, again.confidence, again.found, again.cues, again.unknown) == \
               (first.intent, first.confidence, first.found, first.cues, first.unknown)
