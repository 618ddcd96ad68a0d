"""assistant/insights.py: the merchant lab's numbers and the demo's example requests, on hand-made data."""
from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from assistant import insights as ins


def _catalog(rows, name="shop"):
    products = [NS(id=str(i), title=t, description=d, brand=b, category=c, price=p)
                for i, (t, d, b, c, p) in enumerate(rows)]
    return NS(name=name, products=products)


SHOP = _catalog([
    ("Matte Red Lipstick", "Long-wearing.", "Rouge", "Lipstick", 12.0),
    ("Glossy Pink Lipstick", "", "Rouge", "Lipstick", None),
    ("Nude Lipstick", "Everyday nude.", "Velvet", None, 15.0),
    ("Curl Shampoo", "Sulfate-free shampoo for curls.", "Locks", "Hair", 14.0),
    ("Volume Shampoo", "With sulfates for a deep clean.", "Locks", "Hair", None),
    ("Argan Shampoo", "Argan oil.", None, "Hair", None),
    ("matte  red lipstick", "Same title, other seller.", None, None, None),
])


def test_percentile_nearest_rank():
    assert ins.percentile([5.0], 50) == 5.0
    values = list(range(1, 101))
    assert ins.percentile(values, 50) == 50 and ins.percentile(values, 99) == 99 and ins.percentile(values, 100) == 100
    assert ins.percentile([3, 1, 2], 50) == 2
    with pytest.raises(ValueError, match="at least one"):
        ins.percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        ins.percentile([1], 101)


def test_latency_log_window_and_order():
    log = ins.LatencyLog(capacity=100)
    now = 10_000.0
    for ms in (10, 20, 30, 40):
        log.record("/search", ms, at=now - 5)
    log.record("/search", 999, at=now - 3600)     # outside the window
    log.record("/chat", 500, at=now - 1)
    log.record("/custom", 1, at=now - 1)
    rows = log.summary(minutes=15, now=now)
    assert [r["endpoint"] for r in rows] == ["/chat", "/search", "/custom"]
    search = rows[1]
    assert search == {"endpoint": "/search", "n": 4, "p50_ms": 20.0, "p99_ms": 40.0}
    small = ins.LatencyLog(capacity=2)
    for ms in (1, 2, 3):
        small.record("/event", ms, at=now)
    assert small.summary(now=now)[0]["n"] == 2      # a ring buffer: the oldest fell out


def test_catalog_health_shares_facets_duplicates():
    r = ins.catalog_health(SHOP)
    assert r["products"] == 7
    assert r["shares"] == {"price": round(3 / 7, 4), "brand": round(5 / 7, 4), "category": round(5 / 7, 4),
                           "description": round(6 / 7, 4)}
    assert r["brands"][:2] == [("Rouge", 2), ("Locks", 2)] and r["n_brands"] == 3
    assert dict(r["types"]) == {"lipstick": 4, "shampoo": 3}
    assert dict(r["colors"]) == {"red": 2, "pink": 1, "nude": 1}
    assert r["duplicate_titles"] == [("matte red lipstick", 2)] and r["n_duplicate_titles"] == 1


def test_example_requests_fit_the_catalog():
    examples = dict(ins.example_requests(SHOP))
    assert examples["type"] == "a lipstick"
    assert examples["brand"] in ("Rouge lipstick", "Locks shampoo")
    assert examples["exclusion"] == "lipstick, not Rouge"        # a brand of a type that has several brands
    assert examples["follow-up"] == "more like the second one"   # most products have no price: not "cheaper"
    assert examples["Chinese"] == "推荐一款口红"
    priced = dict(ins.example_requests(SHOP, priced_share=0.9))
    assert priced["follow-up"] == "something cheaper"
    no_brands = _catalog([("Red Lipstick", "", None, None, 5.0), ("Pink Lipstick", "", None, None, 6.0)], "nb")
    nb = ins.example_requests(no_brands)
    kinds = [k for k, _ in nb]
    assert "brand" not in kinds and kinds[0] == "type"
    assert dict(nb)["exclusion"] == "lipstick, not red"              # no brands: a colour some lipsticks have
    # a department ("skin care") is the example only when the catalog names no kind of product
    broad = _catalog([("Skin Care Cream", "", "A", None, None), ("Skin Care Serum", "", "B", None, None),
                      ("Skin Care Cream Plus", "", "C", None, None), ("Eyeliner Pencil", "", "A", None, None),
                      ("Eyeliner Liquid", "", "B", None, None)], "broad")
    assert dict(ins.example_requests(broad))["type"] == "a cream"
    assert ins._with_article("eyeliner") == "an eyeliner" and ins._with_article("shoes") == "shoes"
    assert ins.example_requests(_catalog([("Thing", "", None, None, None)], "empty")) == []


def test_model_report_rows():
    assert ins.model_report(None)["trained"] is False
    manifest = {"version": "v1", "trained_at": 0, "n_events": 1234, "n_users": 10, "n_items": 5,
                "models": ["pop", "als"], "weights": {"pop": 0.2, "als": 1.0}, "fusion_val_ndcg@10": 0.05,
                "validation": {"pop": {"val_ndcg@10": 0.01, "val_hr@10": 0.02}, "als": {"val_ndcg@10": 0.03}}}
    r = ins.model_report(manifest, anchors={"SASRec (CE loss), published": (0.0851, 0.0421)})
    assert r["trained_at"] == "1970-01-01 00:00 UTC" and r["n_events"] == 1234
    assert [(m["model"], m["metric"], m["value"]) for m in r["metrics"]] == [
        ("pop", "NDCG@10", 0.01), ("pop", "HR@10", 0.02), ("als", "NDCG@10", 0.03), ("fusion", "NDCG@10", 0.05)]
    assert {(a["model"], a["metric"], a["value"]) for a in r["anchors"]} == {
        ("SASRec (CE loss)", "NDCG@10", 0.0421), ("SASRec (CE loss)", "HR@10", 0.0851)}
    assert r["weights"] == [{"model": "pop", "weight": 0.2}, {"model": "als", "weight": 1.0}]


def test_live_activity_window():
    now = 600_000.0
    ev = [NS(user_id="u1", item_id="a", type="view", timestamp=now - 30, value=None),
          NS(user_id="u2", item_id="b", type="cart", timestamp=now - 70, value=None),
          NS(user_id="u1", item_id="a", type="view", timestamp=now - 75, value=None),
          NS(user_id="u3", item_id=None, type="search", timestamp=now - 50, value="red lipstick"),
          NS(user_id="old", item_id="a", type="purchase", timestamp=now - 7200, value=None)]
    r = ins.live_activity(ev, minutes=30, now=now)
    assert r["n_events"] == 4 and r["active_shoppers"] == 3
    assert dict(r["by_type"]) == {"view": 2, "cart": 1, "search": 1}
    # now - 30 and now - 50 fall in minute 599,940; now - 70 and now - 75 in minute 599,880
    assert {(x["minute"], x["type"], x["events"]) for x in r["per_minute"]} == {
        (599_940, "view", 1), (599_940, "search", 1), (599_880, "cart", 1), (599_880, "view", 1)}
    assert [x["user"] for x in r["latest"]] == ["u1", "u2", "u1", "u3"]
    assert r["latest"][3]["value"] == "red lipstick"


def test_query_insights_counts_results_and_unplaced_words():
    def msg(sid, role, text):
        return NS(session_id=sid, role=role, text=text)
    messages = [
        msg("s1", "user", "red lipstick"), msg("s1", "assistant", "Here are 2 matches:\n1. A\n2. B"),
        msg("s2", "user", "Red  Lipstick"), msg("s2", "assistant", "Here are 2 matches:\n1. A\n2. B"),
        msg("s3", "user", "a velociraptor costume"), msg("s3", "assistant", "I couldn't find products matching that."),
        msg("s4", "user", "hello there"),                       # chitchat: no stored reply
    ]
    r = ins.query_insights(messages, ["matte lipstick"], few=1)
    assert r["n_queries"] == 5 and r["n_chat"] == 4 and r["n_search"] == 1
    assert r["top_queries"][0] == ("red lipstick", 2)
    assert r["zero_or_few"] == [{"query": "a velociraptor costume", "results": 0, "times": 1}]
    assert ("velociraptor", 1) in r["unplaced"] and ("costume", 1) in r["unplaced"]
    assert 0 < r["llm_share"] < 1


def test_component_bars():
    assert ins.component_bars(None) == []
    assert ins.component_bars({"components": {"dense": 0.5, "pop": -1, "flag": True}}) == [
        {"component": "dense", "value": 0.5}, {"component": "pop", "value": -1.0}]
