"""Prompt templates: files with named variables, checked when rendered."""
from __future__ import annotations

import pytest

from assistant.prompts import PROMPTS_DIR, Prompt, PromptError, load_prompt


def test_missing_variables_are_named_in_order():
    prompt = Prompt("t", "Hello $one, meet ${two} and $one again; $three.")
    assert prompt.variables == ("one", "two", "three")
    with pytest.raises(PromptError, match="Missing variables: one, three"):
        prompt.render(two="x")


def test_unexpected_variables_are_an_error():
    with pytest.raises(PromptError, match="Unexpected variables: extra"):
        Prompt("t", "Hi $name").render(name="a", extra="b")


def test_dollar_signs_and_json_braces():
    prompt = Prompt("t", 'Under $$20: {"price_max": 20} for $who')
    assert prompt.render(who="you") == 'Under $20: {"price_max": 20} for you'
    with pytest.raises(PromptError, match="invalid '\\$' on line 2"):
        Prompt("t", "ok\ncosts $ 20").variables


def test_unknown_template_lists_the_available_ones():
    with pytest.raises(PromptError, match="intent_system"):
        load_prompt("no_such_prompt")


@pytest.mark.parametrize("name", sorted(p.stem for p in PROMPTS_DIR.glob("*.txt")))
def test_every_shipped_prompt_loads_and_renders(name):
    prompt = load_prompt(name)
    text = prompt.render(**{v: f"<{v}>" for v in prompt.variables})
    assert "$" not in text.replace("$20", "") or "$$" not in text
    for v in prompt.variables:
        assert f"<{v}>" in text


def test_the_pipeline_prompts_have_the_variables_the_code_passes():
    assert load_prompt("intent_user").variables == ("context", "grounding", "message")
    assert load_prompt("intent_repair").variables == ("error",)
    assert set(load_prompt("answer_summary").variables) == {"request", "products", "language"}
    assert set(load_prompt("product_question").variables) == {"question", "catalog_text"}
    assert load_prompt("intent_system").variables == ()
