"""One validator per argument (issue 11): the Engine, the HTTP handlers and the CLI refuse the same
bad value with the same message. Before, `Engine` took k=True as 1 and k=5.9 as 5 while the
handlers refused both, and the two had different lists of filter keys."""
from __future__ import annotations

import pytest

from assistant import handlers
from assistant.arguments import FILTER_KEYS, MAX_K, check_filters, check_k
from assistant.cli import main
from assistant.errors import UserError
from tests.engine.conftest import PRODUCTS

BAD_K = [0, MAX_K + 1, -3, 5.9, "ten", True, None, "nan"]
BAD_FILTERS = [({"min_price": 50, "max_price": 10}, ["--min-price", "50", "--max-price", "10"]),
               ({"min_price": -5.0}, ["--min-price", "-5.0"]),
               ({"colour": "red"}, None),                         # no CLI flag can name an unknown key
               ({"exclude": 3}, None)]


def message(call) -> str:
    with pytest.raises(UserError) as info:
        call()
    return str(info.value)


def cli(engine, capsys, *argv) -> str:
    capsys.readouterr()
    assert main(["--home", str(engine.settings.home), "--embedder", "hashing", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.endswith("\n"), err
    return err[len("error: "):-1]


@pytest.mark.parametrize("k", BAD_K, ids=repr)
def test_a_bad_k_is_refused_alike_everywhere(engine, capsys, k):
    expected = message(lambda: check_k(k))
    assert expected.startswith(f"Expected k to be an integer between 1 and {MAX_K}, got ")
    assert message(lambda: engine.recommend("u", k=k)) == expected
    assert message(lambda: engine.search("lipstick", k=k)) == expected
    assert message(lambda: engine.lab("lipstick", k=k)) == expected
    assert message(lambda: handlers.api_recommend(engine, "u", k=k)) == expected
    assert message(lambda: handlers.api_search(engine, "lipstick", k=k)) == expected
    if isinstance(k, (int, float, str)) and not isinstance(k, bool):   # what a command line can spell
        assert cli(engine, capsys, "recommend", "--catalog", "shop", "--k", str(k)) == expected
        assert cli(engine, capsys, "search", "--catalog", "shop", "--query", "lipstick", "--k", str(k)) == expected


@pytest.mark.parametrize("k, clean", [(1, 1), (MAX_K, MAX_K), (5.0, 5), ("7", 7), (" 3 ", 3)])
def test_good_k_values_mean_the_same_everywhere(engine, k, clean):
    assert check_k(k) == clean
    assert len(engine.search("lipstick", k=k)) == min(clean, len(PRODUCTS))   # dense search reaches all
    assert len(handlers.api_search(engine, "lipstick", k=k)) == min(clean, len(PRODUCTS))


@pytest.mark.parametrize("filters, flags", BAD_FILTERS, ids=lambda v: str(v))
def test_bad_filters_are_refused_alike_everywhere(engine, capsys, filters, flags):
    import json

    expected = message(lambda: check_filters(filters))
    assert message(lambda: engine.search("lipstick", filters=filters)) == expected
    assert message(lambda: engine.recommend("u", filters=filters)) == expected
    assert message(lambda: handlers.api_search(engine, "lipstick", filters=filters)) == expected
    assert message(lambda: handlers.api_search(engine, "lipstick", filters=json.dumps(filters))) == expected
    if flags:
        assert cli(engine, capsys, "search", "--catalog", "shop", "--query", "lipstick", *flags) == expected


def test_the_min_max_message_is_one_plain_sentence():
    assert message(lambda: check_filters({"min_price": 50, "max_price": 10})) == \
        "Expected min_price <= max_price, got 50.0 > 10.0"


def test_every_filter_key_the_engine_knows_is_accepted_by_the_api(engine):
    from retrieval.search import SearchFilters

    assert FILTER_KEYS == tuple(SearchFilters.model_fields)
    assert "attributes" in FILTER_KEYS          # the handlers' own list had dropped it
    hits = handlers.api_search(engine, "lipstick", filters='{"attributes": {}, "max_price": 20}')
    assert hits and all(h["price"] <= 20 for h in hits)
