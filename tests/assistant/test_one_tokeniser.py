"""One stemmer / tokeniser for matching: search (retrieval.lexical), the "why" line (explain) and the
intent evaluation (intent_eval) had one each and disagreed ("roses" matched "rose" in search but not
in the why line; "shimmery" matched "shimmer" only in the evaluation)."""
from __future__ import annotations

import pytest

from assistant import explain, intent_eval
from retrieval.lexical import phrase_key, stem, stem_set

PAIRS = [  # (what the shopper typed, what the catalog says)
    ("lipsticks", "lipstick"), ("brushes", "brush"), ("roses", "rose"), ("glasses", "glass"),
    ("berries", "berry"), ("dresses", "dress"), ("serums", "serum"), ("boxes", "box"),
    ("shimmery", "shimmer"), ("strawberries", "strawberry"), ("matte", "matt"), ("gloss", "glossy"),
    ("mascara", "mascaras"), ("powdery", "powders"),
]


def _search_says(query: str, text: str) -> bool:
    return phrase_key(query) in phrase_key(text)       # the must-have / exclude check of search


def _why_says(query: str, text: str) -> bool:
    return explain.matched_terms({}, {"id": "p", "title": text}, {"search_text": query}) == [query]


def _eval_says(query: str, text: str) -> bool:
    return intent_eval.term_match(query, text)


@pytest.mark.parametrize("query, text", PAIRS)
def test_the_three_users_agree(query, text):
    verdicts = {"search": _search_says(query, text), "why": _why_says(query, text), "eval": _eval_says(query, text)}
    assert len(set(verdicts.values())) == 1, verdicts
    assert verdicts["search"] == (stem(query) == stem(text))


def test_stem_set_is_the_stems_of_the_tokens():
    assert stem_set("Paraben-free Lipsticks, 3.5 oz") == {"paraben", "free", "lipstick", "3.5", "oz"}
    assert stem_set("") == set()
