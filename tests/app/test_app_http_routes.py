"""The plain HTTP routes a non-Python caller uses, against the launched app on the real Engine.

The millisecond endpoints (/search, /recommend, /event) skip Gradio's queue: one
`POST /gradio_api/run/NAME` answers them. /chat stays behind the queue (its concurrency limit
protects the LLM), so a direct POST to /run/chat is refused and /call/chat + its event stream works.
"""
from __future__ import annotations

import json
import uuid

import httpx
import pytest

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def http(live_app):
    with httpx.Client(base_url=live_app.url.rstrip("/"), timeout=60) as c:
        yield c


def run(http, name, data, session_hash=None):
    body = {"data": data} | ({"session_hash": session_hash} if session_hash else {})
    return http.post(f"/gradio_api/run/{name}", json=body)


def call(http, name, data):
    """POST /gradio_api/call/NAME, then read its event stream -> (event kind, decoded data)."""
    r = http.post(f"/gradio_api/call/{name}", json={"data": data})
    r.raise_for_status()
    event_id = r.json()["event_id"]
    kind = None
    with http.stream("GET", f"/gradio_api/call/{name}/{event_id}") as resp:
        for line in resp.iter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and kind in ("complete", "error"):
                return kind, json.loads(line[5:].strip() or "null")
    raise AssertionError(f"no complete/error event (last {kind!r})")


def test_search_in_one_post(http, live_app):
    r = run(http, "search", ["shampoo", 3, None, None])
    assert r.status_code == 200, r.text
    hits = r.json()["data"][0]
    assert 1 <= len(hits) <= 3
    assert {h["id"] for h in hits} <= live_app.product_ids
    assert hits[0]["id"].startswith("sh-")


def test_event_then_recommend_in_one_post_each(http, live_app):
    user = f"http-{uuid.uuid4().hex[:8]}"
    item = sorted(live_app.product_ids)[0]
    r = run(http, "event", [user, item, "cart", f"{user}-e1", None, None])
    assert r.status_code == 200, r.text
    ack = r.json()["data"][0]
    assert ack["ok"] and not ack["duplicate"] and ack["item_id"] == item
    again = run(http, "event", [user, item, "cart", f"{user}-e1", None, None]).json()["data"][0]
    assert again["duplicate"] is True
    # a client that sends a stable session_hash (docs/APP.md) gets the same answers
    recs = run(http, "recommend", [user, None, 5, None], session_hash=f"client-{user}").json()["data"][0]
    assert run(http, "recommend", [user, None, 5, None]).json()["data"][0] == recs
    assert recs and {p["id"] for p in recs} <= live_app.product_ids
    assert any("cart" in p["why"] for p in recs), [p["why"] for p in recs]


def test_bad_argument_over_run_is_a_readable_error(http):
    r = run(http, "search", ["shampoo", 0, None, None])
    assert r.status_code >= 400
    assert "Expected k to be an integer between 1 and 100, got 0" in r.text


def test_chat_cannot_skip_the_queue(http):
    r = run(http, "chat", ["a gentle cleanser", "u-http", None, None])
    assert r.status_code == 404, r.text
    assert "queue" in r.text.lower()


def test_chat_through_the_queue(http, live_app):
    kind, data = call(http, "chat", ["a gentle cleanser for dry skin", "u-http", "sess-http-1", None])
    assert kind == "complete", data
    out = data[0]
    assert out["reply"].strip() and out["products"]
    assert {p["id"] for p in out["products"]} <= live_app.product_ids


def test_fast_endpoints_also_answer_the_queued_route(http, live_app):
    kind, data = call(http, "search", ["shampoo", 2, None, None])
    assert kind == "complete"
    assert {h["id"] for h in data[0]} <= live_app.product_ids


@pytest.mark.parametrize("route", ["run", "call"])
def test_api_errors_are_plain_text_not_html(http, route):
    """Issue 11: the API answered "Expected min_price &lt;= max_price, got 50.0 &gt; 10.0"."""
    data = ["shampoo", 3, '{"min_price": 50, "max_price": 10}', None]
    if route == "run":
        r = run(http, "search", data)
        assert r.status_code >= 400, r.text
        message = r.json()["error"]
    else:
        kind, message = call(http, "search", data)
        assert kind == "error"
        message = message["error"] if isinstance(message, dict) else message
    assert "Expected min_price <= max_price, got 50.0 > 10.0" in message
    assert "&lt;" not in message and "&gt;" not in message
