"""Multi-turn resolution with a fake LLM: refinements, positions, Chinese follow-ups."""
from __future__ import annotations

from assistant.dialogue import Session, SessionStore, make_parser, resolve
from assistant.intent import parse_intent
from assistant.schema import Intent, ParseResult


def rules_parser(message, history):
    return parse_intent(message, None, history=history)


def turn(session, message, products=None, parser=rules_parser):
    intent = resolve(message, session, parser)
    session.record(message, intent, products)
    return intent


def test_cheaper_lowers_the_budget_below_what_was_shown(lipsticks):
    s = Session()
    first = turn(s, "matte red lipstick under $20", lipsticks)
    assert first.action == "search" and first.price_max == 20
    cheaper = turn(s, "cheaper")
    # median of 6.5, 9.99, 12, 19 = 10.995; every other constraint is kept
    assert cheaper.action == "refine" and cheaper.price_max == 11.0
    assert cheaper.category == "lipstick" and cheaper.must_have == ["matte", "red"] and cheaper.currency == "USD"


def test_in_blue_instead_replaces_the_colour(lipsticks):
    s = Session()
    turn(s, "matte red lipstick under $20", lipsticks)
    blue = turn(s, "in blue instead")
    assert blue.must_have == ["matte", "blue"] and "red" not in blue.search_text and "blue" in blue.search_text
    assert blue.price_max == 20


def test_the_second_one_points_at_the_shown_product(lipsticks):
    s = Session()
    turn(s, "matte lipstick", lipsticks)
    ask = turn(s, "is the second one waterproof?")
    assert ask.action == "ask_about_product" and ask.refers_to == [2]
    assert s.product_at(2)["id"] == "L2" and s.product_at(-1)["id"] == "L4" and s.product_at(9) is None
    # "it" then means the product just talked about
    follow = turn(s, "is it vegan?")
    assert follow.refers_to == [2]


def test_the_last_one_resolves_to_a_position(lipsticks):
    s = Session()
    turn(s, "lipstick", lipsticks)
    assert turn(s, "tell me about the last one").refers_to == [4]


def test_something_for_my_wife_instead_keeps_the_product():
    s = Session()
    turn(s, "face cream for my mom, under $40", [{"id": "C1", "title": "Olay cream", "price": 28.0}])
    wife = turn(s, "something for my wife instead")
    assert wife.recipient == "wife" and wife.category == "face cream" and wife.price_max == 40
    assert wife.search_text == "face cream"


def test_more_like_that_searches_near_the_product(lipsticks):
    s = Session()
    turn(s, "lipstick", lipsticks)
    more = turn(s, "more like the second one")
    assert more.action == "refine" and more.refers_to == [2]
    assert more.search_text.startswith("nyx soft matte lip cream")
    like_that = Session()
    turn(like_that, "lipstick", lipsticks)
    assert turn(like_that, "more like that").refers_to == [1]


def test_chinese_follow_ups():
    s = Session()
    shown = [{"id": "Z1", "title": "a", "price": 89.0}, {"id": "Z2", "title": "b", "price": 129.0},
             {"id": "Z3", "title": "c", "price": 170.0}]
    first = turn(s, "想买口红，200元以内，不要粉色", shown)
    assert (first.category, first.price_max, first.exclude) == ("lipstick", 200, ["pink"])
    cheaper = turn(s, "便宜一点", shown[:2])
    assert cheaper.price_max == 129 and cheaper.exclude == ["pink"] and cheaper.language == "zh"
    second = turn(s, "第二个持久吗？")
    assert second.action == "ask_about_product" and second.refers_to == [2]


def test_a_new_product_starts_a_new_search():
    s = Session()
    turn(s, "red lipstick under $20", [{"id": "1", "title": "x", "price": 10}])
    fresh = turn(s, "shampoo for curly hair")
    assert fresh.action == "search" and fresh.price_max is None and fresh.must_have == ["curly hair"]


def test_a_new_product_instead_keeps_the_shoppers_constraints():
    s = Session()
    turn(s, "lipstick for my mom under $30", [{"id": "1", "title": "x", "price": 10}])
    perfume = turn(s, "what about perfume instead?")
    assert perfume.category == "perfume" and perfume.recipient == "mother" and perfume.price_max == 30


def test_constraints_alone_refine_the_previous_search():
    s = Session()
    turn(s, "perfume for my girlfriend's birthday", [{"id": "P", "title": "x", "price": 90}])
    cheaper = turn(s, "under $100")
    assert cheaper.action == "refine" and cheaper.price_max == 100 and cheaper.recipient == "girlfriend"
    floral = turn(s, "not floral")
    assert floral.exclude == ["floral"] and floral.price_max == 100 and floral.category == "perfume"


def test_a_brand_alone_keeps_the_product_type():
    """"maybelline ones" after "mascara" is Maybelline mascara (it used to start a brand-only search)."""
    s = Session()
    turn(s, "mascara under $20", [{"id": "1", "title": "x", "price": 10}])
    ones = turn(s, "maybelline ones")
    assert ones.action == "refine" and ones.category == "mascara" and ones.brand == "Maybelline"
    assert ones.price_max == 20 and "mascara" in ones.search_text
    other = turn(s, "what about revlon")
    assert other.category == "mascara" and other.brand == "Revlon"
    # a brand with a product type is a new search
    fresh = turn(s, "maybelline lipstick")
    assert fresh.action == "search" and fresh.category == "lipstick" and fresh.price_max is None


def test_follow_ups_without_context_become_searches():
    s = Session()
    assert turn(s, "cheaper").action == "search"
    assert resolve("cheaper", Session(), rules_parser).sort == "price_asc"


def test_fake_llm_drives_the_dialogue(reply, fake_llm):
    # the LLM answers the message the rules are unsure about; the dialogue then refines it
    fake_llm.enqueue([reply(action="search", search_text="lip balm", category="lip balm")])
    parser = make_parser(fake_llm, 5000)
    s = Session()
    first = turn(s, "something for dry cracked lips", [{"id": "B1", "title": "Burt's Bees balm", "price": 4.0},
                                                      {"id": "B2", "title": "Aquaphor", "price": 6.0}], parser)
    assert first.category == "lip balm" and s.last_parse.source == "llm"
    cheaper = turn(s, "cheaper", parser=parser)      # confident rules: no second LLM call
    assert cheaper.category == "lip balm" and cheaper.price_max == 5.0
    assert len(fake_llm.calls) == 1


def test_parser_returning_an_intent_is_accepted():
    s = Session()
    intent = resolve("anything", s, lambda m, h: Intent(search_text="soap", category="soap"))
    assert intent.category == "soap" and s.last_parse is None


def test_session_history_and_store():
    s = Session()
    turn(s, "lipstick", [{"id": "1", "title": "x"}])
    assert s.history() == [{"role": "user", "content": "lipstick"}] and s.shown_ids == {"1"}
    s.reset()
    assert s.turns == [] and s.last_intent is None
    store = SessionStore(max_sessions=2)
    a = store.get("a")
    assert store.get("a") is a
    store.get("b")
    store.get("c")
    assert len(store) == 2 and store.get("a") is not a   # "a" was evicted


def test_drop_user_drops_every_session_the_shopper_took_part_in():
    store = SessionStore()
    store.get("user:ann", "ann")
    store.get("shared")                 # opened anonymously, then the shopper chatted in it
    store.get("shared", "ann")
    store.get("bob-1", "bob")
    assert store.drop_user("ann") == 2
    assert "user:ann" not in store and "shared" not in store and "bob-1" in store
    assert store.drop_user("ann") == 0


def test_drop_where_asks_only_about_sessions_with_turns():
    store = SessionStore()
    turn(store.get("said"), "lipstick", [{"id": "1", "title": "x"}])
    store.get("silent")
    asked = []
    assert store.drop_where(lambda ids: asked.extend(ids) or set(ids)) == 1
    assert asked == ["said"] and "said" not in store and "silent" in store


def test_parse_result_is_kept_on_the_session():
    s = Session()
    resolve("lipstick", s, rules_parser)
    assert isinstance(s.last_parse, ParseResult) and s.last_parse.source == "rules"
