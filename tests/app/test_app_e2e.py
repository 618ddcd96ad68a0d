"""End to end through gradio_client against a launched app on the REAL Engine (tiny catalog)."""
from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.timeout(120)

PRODUCT_KEYS = {"id", "title", "price", "currency", "score", "components", "why"}


def check_products(products, ids):
    assert isinstance(products, list)
    for p in products:
        assert PRODUCT_KEYS <= set(p), p
        assert p["id"] in ids
        assert isinstance(p["components"], dict) and p["components"]
        assert all(isinstance(v, (int, float)) for v in p["components"].values())
        assert isinstance(p["score"], (int, float))


def test_public_api_is_exactly_four_endpoints(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert sorted(api["named_endpoints"]) == ["/chat", "/event", "/recommend", "/search"]
    assert not api["unnamed_endpoints"]
    params = {name: [p["parameter_name"] for p in ep["parameters"]]
              for name, ep in api["named_endpoints"].items()}
    assert params["/chat"][:3] == ["message", "user_id", "session_id"]
    assert params["/recommend"][:3] == ["user_id", "query", "k"]
    assert params["/event"][:4] == ["user_id", "item_id", "type", "event_id"]
    assert params["/search"][:3] == ["query", "k", "filters"]


def test_chat_returns_catalog_products_with_reasons(client, live_app):
    out = client.predict("a gentle cleanser for dry skin", "shopper-serum", "sess-e2e-1", api_name="/chat")
    assert out["reply"].strip()
    assert isinstance(out["intent"], dict)
    check_products(out["products"], live_app.product_ids)
    assert out["products"], out
    assert all(p["why"].strip() for p in out["products"])
    assert any(p["id"].startswith("cl-") for p in out["products"][:3])


def test_search_and_filters(client, live_app):
    hits = client.predict(query="shampoo", k=3, api_name="/search")
    check_products(hits, live_app.product_ids)
    assert hits and hits[0]["id"].startswith("sh-")
    cheap = client.predict(query="shampoo", k=5, filters='{"max_price": 10}', api_name="/search")
    assert cheap and all(p["price"] is not None and p["price"] <= 10 for p in cheap)
    as_dict = client.predict(query="shampoo", k=5, filters={"max_price": 10}, api_name="/search")
    assert [p["id"] for p in as_dict] == [p["id"] for p in cheap]


def test_event_changes_that_users_recommendations(client, live_app):
    user = f"e2e-{uuid.uuid4().hex[:8]}"
    other = f"e2e-{uuid.uuid4().hex[:8]}"
    before = client.predict(user_id=user, k=5, api_name="/recommend")
    check_products(before, live_app.product_ids)
    for i, item in enumerate(("sh-1", "sh-3")):
        ack = client.predict(user, item, "cart", f"{user}-ev{i}", api_name="/event")
        assert ack["ok"] is True and ack["duplicate"] is False and ack["item_id"] == item
    again = client.predict(user, "sh-1", "cart", f"{user}-ev0", api_name="/event")
    assert again["duplicate"] is True
    after = client.predict(user_id=user, k=5, api_name="/recommend")
    check_products(after, live_app.product_ids)
    assert [p["id"] for p in after] != [p["id"] for p in before]
    assert after[0]["id"].startswith("sh-") or "sh-2" in [p["id"] for p in after[:3]]
    # another cold-start shopper gets no reason that comes from this shopper's cart
    other_after = client.predict(user_id=other, k=5, api_name="/recommend")
    assert not any("cart" in p["why"] for p in other_after), other_after


def test_rating_and_search_events(client):
    ack = client.predict(user_id="e2e-rater", item_id="li-1", type="rating", value=5, api_name="/event")
    assert ack["ok"] and ack["type"] == "rating"
    ack = client.predict(user_id="e2e-rater", item_id="", type="search", value="red lipstick", api_name="/event")
    assert ack["ok"] and ack["type"] == "search"


@pytest.mark.parametrize("kwargs, expected", [
    (dict(message="", api_name="/chat"), "message"),
    (dict(message="   ", api_name="/chat"), "message"),
    (dict(user_id="u1", item_id="no-such-item", type="view", api_name="/event"), "no-such-item"),
    (dict(user_id="u1", item_id="sh-1", type="teleport", api_name="/event"), "teleport"),
    (dict(user_id="u1", item_id="sh-1", type="rating", value=9, api_name="/event"), "rating from 0 to 5"),
    (dict(user_id="u1", item_id="", type="search", api_name="/event"), "query text"),
    (dict(user_id="", item_id="sh-1", type="view", api_name="/event"), "user_id"),
    (dict(user_id="u1", k=0, api_name="/recommend"), "between 1 and 100"),
    (dict(user_id="u1", k=1000, api_name="/recommend"), "between 1 and 100"),
    (dict(query="shampoo", k=-3, api_name="/search"), "between 1 and 100"),
    (dict(query="shampoo", filters="{max_price: 10", api_name="/search"), "JSON"),
    (dict(query="shampoo", filters='{"colour": "red"}', api_name="/search"), "colour"),
    (dict(query="shampoo", catalog="no-such-catalog", api_name="/search"), "no-such-catalog"),
])
def test_bad_arguments_are_refused_with_a_readable_message(client, kwargs, expected):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict(**kwargs)
    message = str(info.value)
    assert expected in message
    assert "Traceback" not in message and "File \"" not in message
    assert len(message) < 400
