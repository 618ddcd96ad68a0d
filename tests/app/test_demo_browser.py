"""The demo's first screen and the merchant lab's panels in headless Debian chromium (issue 14).

A real Engine on the tiny catalog of conftest.py (brands and categories), with trained models and a
FakeLLM that takes SLOW_S seconds: a message the rules cannot settle alone makes a slow turn.
Click an example request, see cards with brand and category, click the follow-up, see the thinking
state during the slow turn, open every lab panel and see its plot drawn, with no JavaScript errors.

SHOPASSIST_SCREENSHOTS=1 saves docs/screenshots/lab-*.png from this catalog.
"""
from __future__ import annotations

import json
import os
import re

import pytest
from conftest import CATALOG, MINI_EVENTS, MINI_PRODUCTS, free_port
from test_app_browser import CHROMIUM, SCREENSHOTS, browser  # noqa: F401 - the shared browser fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not found (`make chromium`)"),
]

SLOW_S = 3.0
SLOW_MESSAGE = "something nice for a picnic by the lake"   # rules confidence 0: the LLM is asked


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    from assistant import handlers as h
    from assistant.engine import Engine
    from assistant.llm import FakeLLM
    from assistant.settings import Settings
    from assistant.ui import build_app, launch
    from ranking.train import TrainConfig, train_all

    home = tmp_path_factory.mktemp("demo-home")
    path = home / "mini.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in MINI_PRODUCTS), encoding="utf-8")
    # no queued replies: after SLOW_S the FakeLLM fails and the turn falls back to the rules' parse
    llm = FakeLLM(delay_s=SLOW_S)
    engine = Engine(Settings(home=home, embedder="hashing", llm="none", default_catalog=CATALOG, threads=1), llm=llm)
    engine.import_catalog(path, CATALOG)
    for i, (user, item, etype) in enumerate(MINI_EVENTS):
        engine.record_event(user, item, etype, event_id=f"seed-{i}", catalog=CATALOG)
    train_all(engine.catalog(CATALOG), engine.events, engine.settings.models_dir,
              TrainConfig(models=("pop", "itemknn", "als")), progress=None)
    # traffic through the handlers (what the API endpoints call), so the lab has latency and queries
    h.api_search(engine, "vitamin c serum", 3)
    h.api_recommend(engine, "shopper-serum", None, 3)
    h.api_event(engine, "shopper-serum", "cl-2", "view")
    h.api_event(engine, "shopper-serum", None, "search", value="velociraptor costume")
    h.api_chat(engine, "matte lipstick", "shopper-lips", "seed-conv")
    demo = build_app(engine)
    port = free_port()
    launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield engine, f"http://127.0.0.1:{port}/", llm
    finally:
        demo.close()


@pytest.fixture
def page(browser, demo_app):  # noqa: F811
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(demo_app[1])
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _examples(engine) -> dict:
    from assistant import handlers as h

    return {kind: (i, message) for i, (kind, message) in enumerate(h.example_messages(engine, CATALOG))}


def test_examples_cards_with_brand_and_category_then_follow_up(page, demo_app):
    from playwright.sync_api import expect

    from assistant import handlers as h

    engine = demo_app[0]
    examples = _examples(engine)
    assert {"type", "brand", "exclusion", "follow-up", "Chinese"} <= set(examples), examples
    for i, message in examples.values():
        expect(page.locator(f"#example-{i}")).to_have_text(message, timeout=30_000)
    expect(page.locator("#demo-shoppers li").first).to_contain_text("events")
    expect(page.locator("#demo-shoppers")).to_contain_text("shopper-serum")
    expect(page.locator("#catalog")).to_be_visible()

    i, message = examples["brand"]
    page.locator(f"#example-{i}").click()
    bubbles = page.locator("#chat [data-testid=bot]")
    cards = page.locator("#cards .sa-card")
    expect(cards.first).to_be_visible(timeout=30_000)
    expect(page.locator("#chat [data-testid=user]").last).to_have_text(message)
    brand = message.split(" ")[0]
    first = cards.first
    expect(first.locator(".sa-brand")).to_have_text(brand)
    products = {p["id"]: p for p in MINI_PRODUCTS}
    item = first.get_attribute("data-item")
    expect(first.locator(".sa-category")).to_have_text(products[item]["category"])
    expect(bubbles.last).not_to_have_text(h.THINKING, timeout=30_000)

    def shown_prices():
        return [products[cards.nth(k).get_attribute("data-item")]["price"] for k in range(cards.count())]
    before = shown_prices()

    i, follow_up = examples["follow-up"]
    page.locator(f"#example-{i}").click()
    expect(bubbles).to_have_count(2, timeout=30_000)
    expect(bubbles.last).to_contain_text("under", timeout=30_000)     # "something cheaper": a lower budget
    expect(page.locator("#thinking .sa-thinking")).to_have_count(0, timeout=30_000)
    expect(cards.first).to_be_visible()
    after = shown_prices()
    assert after and all(p is not None for p in after) and max(after) < max(p for p in before if p), (before, after)

    i, chinese = examples["Chinese"]
    page.locator(f"#example-{i}").click()
    expect(bubbles).to_have_count(3, timeout=30_000)
    expect(bubbles.last).to_contain_text("为你找到", timeout=30_000)


def test_thinking_state_during_a_slow_turn(page, demo_app):
    from playwright.sync_api import expect

    from assistant import handlers as h

    engine, _, llm = demo_app
    calls = len(llm.calls)
    page.locator("#msg textarea").fill(SLOW_MESSAGE)
    page.locator("#msg textarea").press("Enter")
    bubble = page.locator("#chat [data-testid=bot]").last
    # within the LLM's SLOW_S seconds: the bubble and the indicator say it is working; no empty bubble
    expect(bubble).to_have_text(h.THINKING, timeout=int(SLOW_S * 1000 * 0.8))
    expect(page.locator("#thinking .sa-thinking")).to_be_visible()
    expect(page.locator("#thinking")).to_contain_text("thinking")
    # then the answer replaces it and the indicator goes
    expect(bubble).not_to_have_text(h.THINKING, timeout=30_000)
    expect(bubble).not_to_be_empty()
    expect(page.locator("#thinking .sa-thinking")).to_have_count(0, timeout=10_000)
    assert len(llm.calls) > calls, "the slow turn went to the (fake) LLM"


def _plot_drawn(page, elem_id: str, marks: int = 1):
    """A native plot is drawn: vega-embed's SVG with at least `marks` bars."""
    from playwright.sync_api import expect

    bars = page.locator(f"#{elem_id} .vega-embed svg .mark-rect path")
    expect(bars.nth(marks - 1)).to_be_attached(timeout=30_000)
    return bars.count()


def test_every_lab_panel_draws_its_plot(page, demo_app):
    from playwright.sync_api import expect

    shot = os.environ.get("SHOPASSIST_SCREENSHOTS") == "1"
    page.get_by_role("tab", name="Merchant lab").click()

    page.get_by_role("tab", name="Model report").click()
    expect(page.locator("#models-summary")).to_contain_text("trained", timeout=30_000)
    expect(page.locator("#models-summary")).to_contain_text("12 events")
    assert _plot_drawn(page, "models-ndcg", 3) == 3          # pop, itemknn, als (no published anchors here)
    _plot_drawn(page, "models-hr", 3)
    _plot_drawn(page, "models-weights", 3)
    if shot:
        page.screenshot(path=str(SCREENSHOTS / "lab-models.png"), full_page=True)

    page.get_by_role("tab", name="Live activity").click()
    expect(page.locator("#live-summary")).to_contain_text("active shoppers", timeout=30_000)
    _plot_drawn(page, "live-events")
    n = _plot_drawn(page, "live-latency", 8)                  # p50 + p99 of /chat, /recommend, /event, /search
    assert n >= 8
    for endpoint in ("/chat", "/recommend", "/event", "/search"):
        expect(page.locator("#live-latency-table")).to_contain_text(endpoint)
    expect(page.locator("#live-latest")).to_contain_text("velociraptor costume")
    if shot:
        page.screenshot(path=str(SCREENSHOTS / "lab-live.png"), full_page=True)

    page.get_by_role("tab", name="Query insights").click()
    expect(page.locator("#queries-summary")).to_contain_text("stored queries", timeout=30_000)
    _plot_drawn(page, "queries-top", 2)                       # the chat turn + the search event at least
    _plot_drawn(page, "queries-unplaced")
    expect(page.locator("#queries-unplaced")).to_contain_text("velociraptor")
    if shot:
        page.screenshot(path=str(SCREENSHOTS / "lab-queries.png"), full_page=True)

    page.get_by_role("tab", name="Catalog health").click()
    expect(page.locator("#health-table")).to_contain_text("mini", timeout=30_000)
    _plot_drawn(page, "health-shares", 4)                      # price, brand, category, description
    expect(page.locator("#health-brands")).to_contain_text("OGX")
    expect(page.locator("#health-types")).to_contain_text("shampoo")
    if shot:
        page.screenshot(path=str(SCREENSHOTS / "lab-health.png"), full_page=True)

    page.get_by_role("tab", name="Query tester").click()
    page.locator("#lab-user input").fill("shopper-serum")
    page.locator("#lab-user input").press("Enter")
    page.locator("#lab-query textarea").fill("serum")
    page.locator("#lab-run").click()
    expect(page.locator("#lab-personalised")).to_contain_text("se-", timeout=30_000)
    expect(page.locator("#lab-plain")).to_contain_text("se-")
    expect(page.locator("#lab-why-item input")).to_have_value(re.compile(r"^1\. "), timeout=10_000)
    assert _plot_drawn(page, "lab-why-plot", 3) >= 3          # one bar per score component
    if shot:
        page.screenshot(path=str(SCREENSHOTS / "lab-tester.png"), full_page=True)
