"""assistant/handlers.py against a fake engine: argument checks, JSON shapes, HTML escaping."""
from __future__ import annotations

import subprocess
from types import SimpleNamespace
import sys

import pytest

from assistant import handlers as h
from assistant.errors import UserError
from fake_engine import FakeChatResult


# ------------------------------------------------------------------ argument checks
@pytest.mark.parametrize("k", [1, 10, 100, 5.0, "7"])
def test_check_k_accepts(k):
    assert h.check_k(k) == int(float(k))


@pytest.mark.parametrize("k", [0, -1, 101, 5.5, "x", None, True, [3]])
def test_check_k_refuses_with_range_in_message(k):
    with pytest.raises(UserError, match="between 1 and 100"):
        h.check_k(k)


def test_check_filters():
    assert h.check_filters(None) is None
    assert h.check_filters("") is None
    assert h.check_filters("{}") is None
    assert h.check_filters('{"max_price": 20}').max_price == 20
    assert h.check_filters({"brand": "Olay"}).brand == "Olay"
    with pytest.raises(UserError, match="malformed JSON"):
        h.check_filters('{"max_price": ')
    with pytest.raises(UserError, match="JSON object"):
        h.check_filters("[1, 2]")
    with pytest.raises(UserError, match="Unknown filter 'colour'.*accepted: min_price"):
        h.check_filters({"colour": "red"})
    with pytest.raises(UserError, match="accepted: .*attributes"):    # the Engine's keys, all of them
        h.check_filters({"colour": "red"})


# ------------------------------------------------------------------ API handlers
def test_api_chat_shape(fake_engine):
    out = h.api_chat(fake_engine, "  serum please ", "u1", "s1")
    assert set(out) >= {"reply", "products", "intent"}
    assert out["products"] and all({"id", "title", "price", "currency", "score", "components", "why"}
                                   <= set(p) for p in out["products"])


def test_api_chat_sessions(fake_engine):
    h.api_chat(fake_engine, "serum", "u1", "s1")
    h.api_chat(fake_engine, "serum", "u1")          # the engine keys this one on the user
    h.api_chat(fake_engine, "serum")                # anonymous: a fresh one-off session each time
    h.api_chat(fake_engine, "serum")
    calls = fake_engine.chat_calls
    assert calls[:2] == [("u1", "s1"), ("u1", None)]
    assert calls[2][1] and calls[3][1] and calls[2][1] != calls[3][1]


@pytest.mark.parametrize("message", ["", "   ", None])
def test_api_chat_refuses_empty_message(fake_engine, message):
    with pytest.raises(UserError, match="non-empty message"):
        h.api_chat(fake_engine, message)


def test_api_chat_refuses_huge_message(fake_engine):
    with pytest.raises(UserError, match="at most 2000 characters"):
        h.api_chat(fake_engine, "x" * 5000)


def test_api_event_changes_recommendations(fake_engine):
    before = [p["id"] for p in h.api_recommend(fake_engine, "u1", k=3)]
    ack = h.api_event(fake_engine, "u1", "p4", "cart", event_id="ev-1")
    assert ack["ok"] and ack["event_id"] == "ev-1" and ack["duplicate"] is False
    again = h.api_event(fake_engine, "u1", "p4", "cart", event_id="ev-1")
    assert again["duplicate"] is True
    after = [p["id"] for p in h.api_recommend(fake_engine, "u1", k=3)]
    assert after != before and after[0] == "p3"  # the other serum


def test_api_event_bad_arguments(fake_engine):
    with pytest.raises(UserError, match="Unknown event type 'teleport'"):
        h.api_event(fake_engine, "u1", "p1", "teleport")
    with pytest.raises(UserError, match="Unknown item 'nope'"):
        h.api_event(fake_engine, "u1", "nope", "view")
    with pytest.raises(UserError, match="non-empty user_id"):
        h.api_event(fake_engine, "", "p1", "view")


def test_api_search_and_recommend_bounds(fake_engine):
    assert [p["id"] for p in h.api_search(fake_engine, "serum", k=2, filters='{"max_price": 50}')]
    with pytest.raises(UserError, match="between 1 and 100"):
        h.api_search(fake_engine, "serum", k=0)
    with pytest.raises(UserError, match="between 1 and 100"):
        h.api_recommend(fake_engine, "u1", k=1000)
    with pytest.raises(UserError, match="non-empty query"):
        h.api_search(fake_engine, " ")
    with pytest.raises(UserError, match="Unknown catalog 'nope'"):
        h.api_search(fake_engine, "serum", catalog="nope")
    assert h.api_recommend(fake_engine, None, k=2)  # cold start is allowed


# ------------------------------------------------------------------ HTML
def test_cards_escape_every_product_text():
    p = {"id": 'x"><img src=x onerror=alert(1)>', "title": "<b>Bold</b> **Serum** <script>alert(1)</script>",
         "price": 9.5, "currency": "USD", "brand": "Evil & <i>Co</i>", "why": "because <u>you</u> liked it"}
    out = h.render_cards([p])
    assert "<script>" not in out and "<b>" not in out and "<i>" not in out and "<u>" not in out
    assert "<img" not in out
    assert "&lt;b&gt;Bold&lt;/b&gt; **Serum** &lt;script&gt;" in out
    assert "Evil &amp; &lt;i&gt;Co&lt;/i&gt;" in out
    assert 'data-item="x&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in out
    assert "$9.50" in out
    for action in ("view", "like", "cart", "buy"):
        assert f'data-action="{action}"' in out


def test_entities_in_the_data_show_as_characters_but_never_as_markup():
    out = h.render_cards([{"id": "a", "title": "Cream &#9733;SALE&#9733; &lt;b&gt;x&lt;/b&gt; Tom &amp; Co"}])
    assert "Cream ★SALE★ &lt;b&gt;x&lt;/b&gt; Tom &amp; Co" in out and "<b>" not in out


def test_cards_price_only_when_known_and_empty_state():
    out = h.render_cards([{"id": "a", "title": "T", "price": None, "brand": None, "why": ""}])
    assert "sa-price" not in out and "sa-brand" not in out
    assert h.format_price(30, "EUR") == "€30.00"
    assert h.format_price(1234.5, "CHF") == "1,234.50 CHF"
    assert h.format_price(float("nan")) == ""
    empty = h.render_cards([], empty="Nothing <here>")
    assert "Nothing &lt;here&gt;" in empty and "sa-card\"" not in empty
    assert "data-action" not in h.render_cards([{"id": "a", "title": "T"}], buttons=False)


def test_history_escaped():
    out = h.render_history({"user_id": "u", "n_events": 2, "recent": ["<script>x</script>"]})
    assert "&lt;script&gt;" in out and "<script>" not in out
    assert "cold start" in h.render_history(None)


# ------------------------------------------------------------------ shopper tab
def test_shopper_selection(fake_engine):
    users = fake_engine.demo_users()
    choices = h.shopper_choices(users)
    assert choices[0][1] == h.NEW_SHOPPER and choices[1][1] == "A1DEMO"
    uid1, hist = h.select_shopper(h.NEW_SHOPPER, users)
    uid2, _ = h.select_shopper(h.NEW_SHOPPER, users)
    assert uid1.startswith("anon-") and uid1 != uid2 and "cold start" in hist
    uid, hist = h.select_shopper("A1DEMO", users)
    assert uid == "A1DEMO" and "Olay &lt;cream&gt;" in hist


def test_card_action_records_event_and_maps_like_to_click(fake_engine):
    ack, status = h.card_action(fake_engine, "u9", "p2", "like")
    assert ack["type"] == "click" and "Liked" in status
    for action, etype in (("view", "view"), ("cart", "cart"), ("buy", "purchase")):
        ack, _ = h.card_action(fake_engine, "u9", "p1", action)
        assert ack["type"] == etype
    assert [e["type"] for e in fake_engine.events] == ["click", "view", "cart", "purchase"]
    with pytest.raises(UserError, match="Unknown card action"):
        h.card_action(fake_engine, "u9", "p1", "steal")
    with pytest.raises(UserError, match="Pick a shopper"):
        h.card_action(fake_engine, "", "p1", "view")


def test_chat_stream_grows_then_products(fake_engine):
    steps = list(h.chat_stream(fake_engine, "serum", [], "u1", "s1", "beauty"))
    # never an empty bubble: "Thinking ..." until the engine's first result (it was "" before issue 14)
    assert steps[0][0][-2:] == [{"role": "user", "content": "serum"}, {"role": "assistant", "content": h.THINKING}]
    assert all(hist[-1]["content"] for hist, _, _ in steps)
    replies = [hist[-1]["content"] for hist, _, _ in steps]
    assert h.chat_text("<b>x</b> & **y**\n2.") == "&lt;b&gt;x&lt;/b&gt; &amp; **y**\n2."
    assert replies[-1] == "Here are 2 options." and len(replies) > 2
    assert all(products is None for _, products, _ in steps[:-2])   # no cards while only text arrives
    assert steps[-2][1] == steps[-1][1]                             # cards as soon as the engine has them
    assert {p["id"] for p in steps[-1][1]} == {"p3", "p4"}
    assert [working for _, _, working in steps] == [True] * (len(steps) - 1) + [False]
    assert [s["endpoint"] for s in fake_engine.latency.summary()] == ["chat (UI)"]


def test_chat_stream_pending_result_keeps_thinking(fake_engine):
    """A result the engine marks pending (issue 16b: the LLM still refines it) shows its cards at once
    and says it is still thinking; the final result drops the note."""
    def slow_stream(message, user_id=None, session_id=None, catalog=None):
        products = fake_engine._search(message, 2)
        yield FakeChatResult("Here are 2 quick matches:", products, pending=True)
        yield FakeChatResult("Here are 2 refined matches:", products)

    fake_engine.chat_stream = slow_stream
    steps = list(h.chat_stream(fake_engine, "serum", [], "u1", "s1", "beauty"))
    hist, products, working = steps[1]
    assert hist[-1]["content"] == "Here are 2 quick matches:\n\n" + h.STILL_THINKING
    assert products and working
    assert steps[-1][0][-1]["content"] == "Here are 2 refined matches:" and steps[-1][2] is False


def test_question_about_a_shown_product_keeps_the_cards(fake_engine):
    def about(message, user_id=None, session_id=None, catalog=None):
        yield FakeChatResult("The second one is fragrance-free.", [], {"action": "ask_about_product"})

    fake_engine.chat_stream = about
    *_, (hist, products, working) = h.chat_stream(fake_engine, "more about the second one", [], "u1", "s1", "beauty")
    assert products is None and not working     # None: the UI leaves the cards of the last answer
    assert hist[-1]["content"] == "The second one is fragrance-free."


def test_cards_show_brand_and_category():
    out = h.render_cards([{"id": "a", "title": "T", "brand": "OGX <b>", "category": "Beauty > Hair Care > Shampoos"}])
    assert '<span class="sa-brand">OGX &lt;b&gt;</span>' in out
    assert '<span class="sa-category" title="Beauty &gt; Hair Care &gt; Shampoos">Hair Care › Shampoos</span>' in out
    assert "sa-category" not in h.render_cards([{"id": "a", "title": "T", "category": None}])
    assert h.category_label("Cleanser") == "Cleanser" and h.category_label("") == ""


def test_api_calls_record_latency(fake_engine):
    h.api_search(fake_engine, "serum", 3)
    h.api_recommend(fake_engine, "u1", None, 3)
    h.api_event(fake_engine, "u1", "p1", "view")
    with pytest.raises(UserError):
        h.api_search(fake_engine, "serum", 0)   # refused calls are answered too: they count
    h.api_chat(fake_engine, "serum", "u1", "s1")
    summary = {s["endpoint"]: s for s in fake_engine.latency.summary()}
    assert set(summary) == {"/search", "/recommend", "/event", "/chat"}
    assert summary["/search"]["n"] == 2 and summary["/event"]["n"] == 1
    assert all(0 <= s["p50_ms"] <= s["p99_ms"] for s in summary.values())


# ------------------------------------------------------------------ merchant lab
def test_lab_run_table_has_every_component(fake_engine):
    h.api_event(fake_engine, "u1", "p4", "purchase")
    out = h.lab_run(fake_engine, "serum cream", "u1", 5)
    headers, rows = out["personalised"]
    assert headers[:4] == ["#", "id", "title", "score"]
    assert {"affinity", "popularity", "lexical"} <= set(headers)
    assert out["plain"][0] == headers  # same columns side by side
    assert rows and all(len(r) == len(headers) for r in rows)
    assert out["timings"][-1][0] == "total" and out["intent"]["search_text"] == "serum cream"
    with pytest.raises(UserError):
        h.lab_run(fake_engine, "", None)


def test_render_table_escapes_and_aligns():
    headers, rows = h.results_table([{"id": "<x>", "title": "<script>t</script>", "score": 1.23456,
                                      "components": {"dense": 0.5}}])
    out = h.render_table(headers, rows)
    assert "<script>" not in out and "&lt;script&gt;t&lt;/script&gt;" in out and "&lt;x&gt;" in out
    assert '<td class="sa-num">1.235</td>' in out and '<td class="sa-num">0.5</td>' in out
    assert "No results" in h.render_table(headers, [])


def test_import_catalog_report(fake_engine):
    mapping = h.mapping_from_fields({"id": " sku ", "title": "name", "price": ""})
    assert mapping == {"id": "sku", "title": "name"}
    assert h.mapping_from_fields({f: "" for f in h.MAPPING_FIELDS}) is None
    seen = []
    summary, report = h.import_catalog(fake_engine, "/tmp/x.csv", "shop", mapping, True,
                                       progress=lambda *a: seen.append(a))
    assert summary["n_imported"] == 2 and "2 products" in report and "row 3" in report
    assert seen and "shop" in fake_engine.catalogs()
    with pytest.raises(UserError, match="Choose a CSV"):
        h.import_catalog(fake_engine, None, "x")


def test_handlers_import_is_light():
    code = ("import sys, assistant.handlers, assistant.ui, assistant.commands.serve; "
            "print(sorted(m for m in ('gradio', 'torch', 'chromadb', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ demo first screen + lab panels
def test_example_messages_and_demo_shoppers(fake_engine):
    # no product type has two products here, so no type / exclusion / Chinese example
    assert h.example_messages(fake_engine, "beauty") == [("brand", "CeraVe cleanser"), ("follow-up", "something cheaper")]
    html_ = h.render_demo_shoppers(fake_engine.demo_users())
    assert "<code>A1DEMO</code> · 3 events · recently: Olay &lt;cream&gt;" in html_
    assert "New shopper" in h.render_demo_shoppers([])


def test_lab_model_report_untrained_and_trained(fake_engine):
    r = h.lab_model_report(fake_engine, "beauty")
    assert r["trained"] is False and "No trained models" in r["summary"]
    fake_engine.manifest = {"version": "v9", "trained_at": 1.7e9, "n_events": 198502, "n_users": 22363,
                            "n_items": 5, "models": ["pop"], "weights": {"pop": 1.0},
                            "validation": {"pop": {"val_ndcg@10": 0.01, "val_hr@10": 0.02}}}
    r = h.lab_model_report(fake_engine, "beauty")
    assert "198,502 events" in r["summary"] and "pop 1" in r["summary"]
    assert r["anchors"] == []          # a 5-product catalog is not the Beauty benchmark: no published anchors
    assert {m["metric"] for m in r["metrics"]} == {"NDCG@10", "HR@10"}


def test_lab_activity_and_query_insights(fake_engine):
    h.api_event(fake_engine, "u1", "p1", "view")
    h.api_event(fake_engine, "u2", "p2", "cart")
    h.api_search(fake_engine, "serum", 3)
    r = h.lab_activity(fake_engine, 30)
    assert r["n_events"] == 2 and r["active_shoppers"] == 2
    assert {x["endpoint"] for x in r["latency"]} == {"/event", "/search"}
    assert "2 active shoppers" in r["summary"]
    fake_engine.chat_messages = [SimpleNamespace(session_id="s", role="user", text="zorbing helmet"),
                                 SimpleNamespace(session_id="s", role="assistant", text="I couldn't find ...")]
    q = h.lab_query_insights(fake_engine, "beauty")
    assert q["zero_or_few"][0]["query"] == "zorbing helmet" and ("zorbing", 1) in q["unplaced"]


def test_lab_catalog_health_and_why_rank(fake_engine):
    reports = h.lab_catalog_health(fake_engine)
    assert [r["catalog"] for r in reports] == ["beauty"] and reports[0]["products"] == 5
    out = h.lab_run(fake_engine, "serum cream", None, 5)
    shown = out["products"]["plain"]
    rows = h.why_rank_rows(shown, shown[0]["id"])
    assert rows == [{"component": k, "value": float(v)} for k, v in shown[0]["components"].items()]
    assert h.why_rank_rows(shown, "nope") == []
