"""assistant.client.ShopAssistClient against the launched app on the real Engine (tiny catalog)."""
from __future__ import annotations

import uuid

import pytest

from assistant.client import ShopAssistClient, ShopAssistError, _error_message

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def shop(live_app):
    with ShopAssistClient(live_app.url) as c:
        yield c


def test_search_recommend_event_chat(shop, live_app):
    hits = shop.search("shampoo", k=3)
    assert hits and hits[0]["id"].startswith("sh-")
    assert {h["id"] for h in hits} <= live_app.product_ids

    user = f"client-{uuid.uuid4().hex[:8]}"
    item = hits[0]["id"]
    ack = shop.event(user, item, "cart", event_id=f"{user}-1")
    assert ack["ok"] and ack["item_id"] == item and not ack["duplicate"]
    assert shop.event(user, item, "cart", event_id=f"{user}-1")["duplicate"] is True
    recs = shop.recommend(user, k=5)
    assert recs and {p["id"] for p in recs} <= live_app.product_ids
    assert any("cart" in p["why"] for p in recs)

    out = shop.chat("a gentle cleanser for dry skin", user_id=user, session_id=f"{user}-conv")
    assert out["reply"].strip() and out["products"]
    assert {p["id"] for p in out["products"]} <= live_app.product_ids


def test_same_answers_as_gradio_client(shop, client):
    assert shop.search("shampoo", k=3, filters={"exclude": ["dry"]}) == \
        client.predict(query="shampoo", k=3, filters={"exclude": ["dry"]}, api_name="/search")


@pytest.mark.parametrize("call, expected", [
    (lambda s: s.search("shampoo", k=0), "Expected k to be an integer between 1 and 100, got 0"),
    (lambda s: s.event("u1", "no-such-item", "cart"), "no-such-item"),
    (lambda s: s.chat("   "), "message"),
])
def test_refusals_carry_the_servers_message(shop, call, expected):
    with pytest.raises(ShopAssistError, match=expected):
        call(shop)


def test_unreachable_server_and_bad_url():
    with pytest.raises(ValueError, match="http://"):
        ShopAssistClient("localhost:7860")
    with ShopAssistClient("http://127.0.0.1:9", timeout=2) as c:   # port 9 (discard): nothing listens
        with pytest.raises(ShopAssistError, match="cannot reach ShopAssist at http://127.0.0.1:9"):
            c.search("shampoo")


def test_error_payloads():
    assert _error_message('{"error": "Expected k to be 1..100, got 0"}', "x") == "Expected k to be 1..100, got 0"
    assert _error_message('"plain message"', "x") == "plain message"
    assert _error_message("<html>boom</html>", "fallback").startswith("fallback: <html>")
    assert _error_message("null", "fallback") == "fallback"


def test_concurrent_chats_on_one_client_get_their_own_answers(shop, live_app):
    # Gradio hands a session's queued messages to whichever stream reads first: chats that run at
    # the same time must not share a session hash, or one caller could receive another's answer.
    from concurrent.futures import ThreadPoolExecutor

    asks = [("shampoo for oily hair", "sh-"), ("a gentle cleanser for dry skin", "cl-")] * 6

    def ask(i):
        message, prefix = asks[i]
        out = shop.chat(message, user_id=f"conc-{i}", session_id=f"conc-{uuid.uuid4().hex[:6]}")
        return prefix, out

    with ThreadPoolExecutor(len(asks)) as pool:
        results = list(pool.map(ask, range(len(asks))))
    for prefix, out in results:
        assert out["products"] and out["products"][0]["id"].startswith(prefix), (prefix, out["products"][:2])
    assert shop._queued_hashes.qsize() <= len(asks)   # hashes are reused, not one per call


def test_app_bounds_the_sessions_it_keeps(live_app):
    from assistant.ui import SESSION_CAPACITY

    assert live_app.demo.state_session_capacity == SESSION_CAPACITY < 10000
