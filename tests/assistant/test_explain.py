"""Why-lines from real score components, grounding of LLM summaries, product questions."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.explain import answer_question, ground_report, summarize, why
from assistant.schema import Intent


@dataclass
class Scored:   # the shape of ranking.fusion.ScoredItem
    item_id: str
    score: float = 1.0
    components: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    row: int = 0


@pytest.fixture
def catalog(lipsticks):
    return {p["id"]: p for p in lipsticks}


def test_why_names_matched_terms_history_and_popularity(catalog):
    intent = Intent(search_text="matte red lipstick", price_max=20, currency="USD")
    item = Scored("L1", components={"dense": 0.8, "lexical": 0.5, "popularity": 0.7, "content": 0.6},
                  evidence={"history_item": "L4", "history_type": "purchase"})
    text = why(item, catalog, intent)
    assert text.startswith("matches 'matte', 'red', 'lipstick'")
    assert "you bought MAC Matte Lipstick, Ruby Woo" in text
    assert "popular with shoppers" in text
    assert "similar to things you liked" not in text      # said more precisely by the history line


def test_why_says_nothing_it_cannot_back(catalog):
    intent = Intent(search_text="waterproof mascara")
    item = Scored("L2", components={"dense": 0.2, "lexical": 0.0, "popularity": 0.1, "cf": 0.0})
    assert why(item, catalog, intent) == ""


def test_why_uses_the_searchers_own_matched_terms(catalog):
    @dataclass
    class Hit:
        id: str
        components: dict
        matched_terms: list

    assert why(Hit("L3", {"lexical": 1.0}, ["argan"]), catalog, Intent()) == "matches 'argan'"
    # the tokeniser splits "L'Oreal" into 'l' + 'oreal': a lone letter is not named as a match
    assert why(Hit("L3", {"lexical": 1.0}, ["l", "oreal", "口"]), catalog, Intent()) == "matches 'oreal', '口'"


def test_why_budget_and_collaborative_reasons(catalog):
    intent = Intent(search_text="lipstick", price_max=20, currency="USD")
    item = Scored("L2", components={"lexical": 0.3, "cf": 0.9, "price_fit": 1.0},
                  evidence={"co_bought": "L1"})
    text = why(item, catalog, intent, max_reasons=5)
    assert "shoppers with similar taste bought it" in text
    assert "$6.50, within your $20.00 budget" in text
    assert "often bought with Maybelline SuperStay Matte Ink Liquid Lipstick, Pioneer" in text


def test_why_in_chinese(catalog):
    item = Scored("L1", components={"popularity": 0.9}, evidence={"history_item": "L2", "history_type": "view"})
    assert why(item, catalog, Intent(language="zh")) == "你看过NYX Soft Matte Lip Cream, Rome；很受顾客欢迎"


def test_ground_removes_invented_products_and_prices(lipsticks):
    summary = ("The NYX Soft Matte Lip Cream is a bargain at $6.50. "
               "You might also love the Fenty Beauty Stunna Lip Paint for $26! "
               "Another great pick is \"Velvet Teddy\" by MAC. "
               "The Maybelline SuperStay Matte Ink lasts all day.")
    report = ground_report(summary, lipsticks)
    assert "Fenty" not in report.text and "$26" not in report.text and "Velvet Teddy" not in report.text
    assert "NYX Soft Matte Lip Cream is a bargain at $6.50." in report.text
    assert "Maybelline SuperStay Matte Ink lasts all day." in report.text
    assert len(report.removed) == 2


def test_ground_checks_prices_of_shown_products(lipsticks):
    assert ground_report("MAC Matte Lipstick costs $19.", lipsticks).text == "MAC Matte Lipstick costs $19."
    assert ground_report("MAC Matte Lipstick costs $15.", lipsticks).text == ""


def test_ground_uses_catalog_titles_and_brands(lipsticks):
    text = "Try the revlon super lustrous lipstick too. The NYX one is great."
    out = ground_report(text, lipsticks, catalog_titles=["Revlon Super Lustrous Lipstick"]).text
    assert out == "The NYX one is great."
    assert ground_report("Chanel makes lovely ones.", lipsticks).text == ""


def test_zero_hallucinated_products_over_the_intent_set(intent_rows, lipsticks):
    """For every message of the test set, a summary that mixes shown products with an invented one
    is grounded: nothing that was not shown survives."""
    invented = ["Glossier Ultralip Tinted Balm", "Charlotte Tilbury Pillow Talk", "$88", "¥999"]
    for n, row in enumerate(intent_rows):
        shown = lipsticks[n % 3: n % 3 + 2]
        fake = (f"For you: {shown[0]['title']} at ${shown[0]['price']:.2f}. "
                f"Also consider the {invented[n % 2]} at {invented[2 + n % 2]}. "
                f"{shown[1]['title']} is popular.")
        text = ground_report(fake, shown).text
        for bad in invented:
            assert bad not in text, (row["id"], text)
        assert shown[0]["title"] in text


def test_summarize_is_the_deterministic_line(lipsticks):
    intent = Intent(search_text="lipstick", price_max=20, currency="USD")
    base = summarize(intent, lipsticks)
    assert base == "Here are 4 matches for lipstick (under $20.00):"
    assert summarize(intent, []) .startswith("I couldn't find")


def test_answer_from_the_catalog(lipsticks):
    answer = answer_question("is the first one waterproof?", lipsticks[0])
    assert answer.found and "Waterproof formula" in answer.text
    assert answer_question("is it vegan?", lipsticks[1]).found


def test_answer_says_plainly_when_the_catalog_does_not_say(lipsticks):
    answer = answer_question("is the fourth one waterproof?", lipsticks[3])
    assert not answer.found
    assert answer.text == "The catalog doesn't say whether MAC Matte Lipstick, Ruby Woo is waterproof."
    assert "没有提到" in answer_question("第四个防水吗？", lipsticks[3]).text


def test_answer_flags_a_negation_in_the_catalog(lipsticks):
    answer = answer_question("is the third one waterproof?", lipsticks[2])
    assert answer.found and "negation" in answer.text and "Not waterproof" in answer.text


def test_answer_price_and_brand_fields(lipsticks):
    assert answer_question("how much is it?", lipsticks[1]).text == "The price of NYX Soft Matte Lip Cream, Rome is $6.50."
    assert "MAC" in answer_question("what brand is it", lipsticks[3]).text


def test_one_price_format_for_chat_text_and_cards():
    """The chat text said "$12" and the cards "$12.00": one formatter now serves both."""
    from assistant import explain, handlers
    from assistant.commands.chat import format_result
    from assistant.engine import _reply_text
    from retrieval.catalog import format_price

    assert format_price(12) == "$12.00" and format_price(6.5, "EUR") == "€6.50"
    assert format_price(1234.5, "chf") == "1,234.50 CHF" and format_price(None) == format_price(float("nan")) == ""
    product = {"id": "p1", "title": "Matte Lipstick", "price": 12.0, "currency": "USD", "why": ""}
    assert "Matte Lipstick — $12.00" in _reply_text("Here:", [product])           # chat text
    assert "$12.00" in handlers._card(product, buttons=False)                       # the card
    assert "$12.00" in format_result(type("R", (), {"reply": "", "products": [product]})())  # CLI chat
    assert explain.format_price is handlers.format_price is format_price


def test_describe_product_says_only_what_the_catalog_has():
    from assistant.explain import describe_product

    text = describe_product({"id": "B1", "title": "Cetaphil Gentle Skin Cleanser 16 fl oz", "price": None},
                            [{"id": "B2", "title": "Cetaphil Gentle Skin Cleanser 4 fl oz", "price": 9.5,
                              "currency": "USD"}])
    assert "price" not in text and "rating" not in text and "brand" not in text
    assert "no description beyond the title" in text
    assert "Also available as: Cetaphil Gentle Skin Cleanser 4 fl oz ($9.50)" in text


@pytest.mark.parametrize("question", ["the second one", "#2?", "and the third one?", "第二个怎么样"])
def test_a_bare_reference_gets_the_products_facts(question):
    # "the second one" alone answered "The catalog doesn't say anything about that for <product>."
    from assistant.explain import answer_about

    product = {"id": "N1", "title": "NYX Matte Lipstick, Nude", "brand": "NYX", "category": "Makeup > Lips > Lipstick",
               "description": "A creamy matte lipstick."}
    text = answer_about(question, product, language="zh" if "第" in question else "en")
    assert "doesn't say" not in text and "没有提到" not in text
    assert "NYX" in text and "creamy matte" in text


def test_a_real_attribute_question_still_says_when_the_catalog_does_not_say():
    from assistant.explain import answer_about

    product = {"id": "N1", "title": "NYX Matte Lipstick, Nude", "description": "A creamy matte lipstick."}
    assert "doesn't say" in answer_about("is the second one vegan?", product)
