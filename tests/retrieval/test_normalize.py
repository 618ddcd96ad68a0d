"""Units / numbers normalisation, typo repair over a vocabulary, product-type words, and their effect
on the lexical ranking (each ranking test fails on the plain tokenizer + BM25 it replaced)."""
import numpy as np
import pytest

from retrieval.lexical import LexicalIndex, analyse, head_term
from retrieval.normalize import Speller, damerau_levenshtein, normalize_units


@pytest.mark.parametrize("variant", ["1/2 in.", "1/2 inch", "0.5 in", '1/2"', "1/2 IN", ".5 inches", "1/2in"])
def test_one_size_many_spellings(variant):
    assert analyse(variant) == analyse("0.5 in")
    assert "0.5in" in analyse(variant)


def test_mixed_numbers_glued_units_and_thousands():
    assert analyse("1-1/2 in. pipe") == analyse("1 1/2 inch pipe") == analyse("1.5 in pipe")
    assert "18volt" in analyse("RIDGID 18-Volt drill") and "18volt" in analyse("18v drill")
    assert "60watt" in analyse("60watt bulb") and "60watt" in analyse("60-Watt bulb")
    assert "5000btu" in analyse("5,000 BTU window unit")
    assert "6ft" in analyse("6' fence") and "6ft" in analyse("6 feet fence")


def test_names_and_model_codes_are_left_alone():
    assert normalize_units("10/10 Remesh") == "10/10 Remesh"      # not a size fraction
    assert "m18" in analyse("Milwaukee M18 FUEL")                  # a model code, not 18 metres
    assert "t8" in analyse("32w t8")
    assert analyse("2x4 lumber")[:3] == ["2", "x", "4"]
    assert "rustoleum" in analyse("Rust-Oleum Restore")             # hyphenated names also joined
    assert normalize_units("Steves &amp; Sons") == "Steves & Sons"


def test_damerau_levenshtein():
    assert damerau_levenshtein("ceiling", "cieling") == 1            # transposition
    assert damerau_levenshtein("refrigerator", "refigrator") == 2
    assert damerau_levenshtein("abc", "abc") == 0
    assert damerau_levenshtein("kitten", "sitting", limit=1) == 2    # stops early: limit + 1


def test_speller_repairs_four_letter_words_only_when_safe():
    sp = Speller({"white": 300, "pink": 40, "nike": 20, "nine": 15, "gold": 30, "teal": 12, "tan": 9, "shoe": 80,
                  "golf": 2}, known={"team", "tank"})
    assert sp.correct("whte") == ["white"]          # a missing letter
    assert sp.correct("pnik") == ["pink"]           # two neighbours swapped
    assert sp.correct("team") == [] and sp.correct("tank") == []   # known real words are never "corrected"
    assert sp.correct("golf") == []                 # the vocabulary holds it (even rarely): a word, not a typo
    assert sp.correct("rise") == [] and sp.correct("tean") == []   # one changed letter: "rose"? "teal"? no
    assert sp.correct("nice") == []                 # "nike" or "nine": not repaired by a substitution
    assert sp.correct("hite") == []                 # the first letter is kept
    assert Speller({"black": 50, "blank": 40}).correct("blak") == []              # ambiguous: left as typed
    assert Speller({"black": 500, "blank": 4}).correct("blak") == ["black"]      # one stands out
    assert sp.repair(["whte", "shoe"]) == ["white", "shoe"]


def test_speller_repairs_against_the_vocabulary_only():
    sp = Speller({"ceiling": 40, "fan": 90, "refrigerator": 30, "conditioner": 25, "led": 50, "bulb": 60,
                  "kitchenaid": 12, "kitchen": 80, "aid": 3, "fluorescent": 130, "flourescent": 1, "t8": 9})
    assert sp.correct("cieling") == ["ceiling"]
    assert sp.correct("refigrator") == ["refrigerator"]
    assert sp.correct("condit") == ["conditioner"]                   # truncated: completed
    assert sp.correct("flourescent") == ["fluorescent"]              # a rare catalog typo: the common word
    assert sp.correct("ceiling") == [] and sp.correct("zzzzqq") == [] and sp.correct("t8") == []
    assert sp.split("ledbulb") == ("led", "bulb")
    assert sp.repair(["kitchen", "aid", "cieling", "fan"]) == ["kitchenaid", "ceiling", "fan"]
    assert sp.repair(["flourescent", "t8"]) == ["flourescent", "fluorescent", "t8"]


def test_speller_gives_up_at_once_on_a_word_longer_than_the_vocabulary():
    # a 20,000-character message without spaces (the property test's repeated text) built the 2-edit
    # delete set of one 20,000-letter word: the test process grew to 23 GB and was killed in CI
    import resource
    import time

    sp = Speller({"ceiling": 40, "fan": 90, "conditioner": 25})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    word = "lipstickredmatte" * 1250
    assert sp.correct(word) == [] and sp.split(word) is None
    assert sp.correct("conditionerx") == ["conditioner"]          # still one edit past the longest word
    assert time.perf_counter() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000   # KiB


def test_head_term_is_the_product_type_word():
    assert head_term("Glacier Bay 2-piece Dual Flush Elongated Toilet in White") == "toilet"
    assert head_term("Hampton Bay Bamboo Rollup Shade - 96 in. W x 72 in. L") == "shade"
    assert head_term("Milwaukee M18 Drill Kit (2-Tool)") == "drill"                 # "kit" names no type
    assert head_term("Bemis Elongated Closed Front Toilet Seat, White") == "seat"
    assert head_term("stone for walls") == "stone"


TITLES = [
    "2 in. PVC Elbow",
    "Charlotte Pipe 1/2 in. PVC Sch. 40 90-Degree Elbow",
    "Frigidaire 18 cu. ft. Top Freezer Refrigerator in Stainless Steel",
    "Hunter Ceiling Fan with Light Kit in White",
    "Toilet Seat Bumpers (4-Pack)",
    "Kohler Elongated Toilet in White with Seat",
    "Kohler Round Closed Front Toilet Seat in White",
    "Replacement Filter for Refrigerator Water Line",
    "Flush Mount Ceiling Light Fixture",   # a word needs 2 documents to be a repair target
    "Bemis Elongated Closed Front Toilet Seat, White",   # ... and a type needs 2 documents too
]


@pytest.fixture(scope="module")
def index():
    return LexicalIndex(TITLES + [f"Filler product number {i}" for i in range(30)])


def _top(index, query):
    scores = index.scores([s for _, s in index.query_terms(query)])
    return int(np.argmax(scores)), scores


def test_size_written_differently_still_matches(index):
    top, _ = _top(index, "0.5 inch pvc elbow")
    assert top == 1


def test_misspelt_word_is_repaired_from_the_catalog(index):
    top, scores = _top(index, "refigerator")
    assert scores[2] > 0 and scores[7] > 0 and top in (2, 7)
    assert [s for _, s in index.query_terms("cieling fan")] == ["ceiling", "fan"]
    assert index.query_terms("cieling fan")[0][0] == "ceiling"       # the surface is the catalog's word


def test_query_type_ranks_the_named_type(index):
    assert index.query_type("kohler toilet seat") == "seat"
    assert index.query_type("blue widget") == ""                     # no product has that type
    match = index.type_matches("seat")
    assert match[6] == match[9] == 1.0 and match[5] == 0.0 and match[4] == 0.0   # "Toilet Seat Bumpers": bumper
