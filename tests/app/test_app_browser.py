"""The app in headless Debian chromium (Playwright for Python, executable_path, no browser download):
type a message, see product cards, click Add to cart, see "Recommended for you" change.

SHOPASSIST_SCREENSHOTS=1 saves docs/screenshots/shopper.png and docs/screenshots/merchant-lab.png.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(180),
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} not found: install Debian's chromium (`make chromium`, "
                              "or apt-get install chromium); Playwright never downloads a browser"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, live_app):
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_app.url)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_chat_cards_add_to_cart_updates_recommendations(page, live_app):
    from playwright.sync_api import expect

    shot = os.environ.get("SHOPASSIST_SCREENSHOTS") == "1"
    recs = page.locator("#recs")
    expect(recs.locator(".sa-card").first).to_be_visible(timeout=30_000)
    user_id = page.locator("#user-id input, #user-id textarea").first
    expect(user_id).to_have_value(re.compile(r"^anon-"), timeout=10_000)
    before = recs.inner_text()

    page.locator("#msg textarea").fill("a gentle cleanser for dry skin")
    page.locator("#msg textarea").press("Enter")
    expect(page.locator("#chat [data-testid=bot]").last).not_to_be_empty(timeout=30_000)
    cards = page.locator("#cards .sa-card")
    expect(cards.first).to_be_visible(timeout=30_000)
    n = cards.count()
    assert n >= 1
    shown = [cards.nth(i).get_attribute("data-item") for i in range(n)]
    assert set(shown) <= live_app.product_ids
    first = cards.first
    for label in ("View", "Like", "Add to cart", "Buy"):
        expect(first.get_by_role("button", name=label, exact=True)).to_be_visible()
    expect(first.locator(".sa-why")).not_to_be_empty()

    item = shown[0]
    first.get_by_role("button", name="Add to cart", exact=True).click()
    expect(page.locator("#event-status")).to_contain_text("Added to cart", timeout=15_000)
    expect(recs).not_to_have_text(before, timeout=15_000)
    uid = user_id.input_value()
    assert [(e.item_id, e.type) for e in live_app.engine.events.user_events(uid)] == [(item, "cart")]
    if shot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "shopper.png"), full_page=True)

    # Merchant lab: query tester shows intent, every score component and both rankings.
    page.get_by_role("tab", name="Merchant lab").click()
    lab_user = page.locator("#lab-user input")
    lab_user.fill(uid)
    lab_user.press("Enter")
    page.locator("#lab-query textarea").fill("serum under $25")
    page.locator("#lab-run").click()
    expect(page.locator("#lab-personalised")).to_contain_text("score", timeout=30_000)
    expect(page.locator("#lab-personalised")).to_contain_text("se-", timeout=30_000)
    expect(page.locator("#lab-plain")).to_contain_text("se-", timeout=30_000)
    expect(page.locator("#lab-timings")).to_contain_text("retrieval", timeout=10_000)
    if shot:
        page.screenshot(path=str(SCREENSHOTS / "merchant-lab.png"), full_page=True)


def test_product_text_renders_as_text_not_html(page, live_app):
    """A title full of HTML/Markdown shows literally in a card; no <script> or <b> from data."""
    from playwright.sync_api import expect

    page.locator("#msg textarea").fill("nude lipstick")
    page.locator("#msg textarea").press("Enter")
    card = page.locator('#cards .sa-card[data-item="li-3"]')
    expect(card).to_be_visible(timeout=30_000)
    expect(card.locator(".sa-title")).to_have_text("<b>Bold</b> **Nude** Lipstick <script>alert(1)</script>")
    assert page.locator("#cards .sa-title b, #cards script").count() == 0
    bubble = page.locator("#chat [data-testid=bot]").last
    expect(bubble).to_contain_text("<b>Bold</b> **Nude** Lipstick")
    assert bubble.locator("b, strong, script").count() == 0


def test_merchant_imports_a_catalog_with_progress_and_errors(page, tmp_path):
    """Upload a CSV in the Merchant lab: counts and the bad row are reported, the catalog is selectable."""
    from playwright.sync_api import expect

    csv = tmp_path / "garden.csv"
    csv.write_text("sku,name,cost,maker\n"
                   "g-1,Garden Hose 20m,24.99,AquaFlow\n"
                   "g-2,Pruning Shears,not-a-price,SnipCo\n"
                   "g-3,Watering Can 5L,9.50,AquaFlow\n"
                   "g-1,Garden Hose 20m (again),24.99,AquaFlow\n", encoding="utf-8")
    page.get_by_role("tab", name="Merchant lab").click()
    page.get_by_role("tab", name="Import a catalog").click()
    page.locator("#upload-file input[type=file]").set_input_files(str(csv))
    page.locator("#upload-name textarea, #upload-name input").first.fill("garden")
    page.get_by_text("Column mapping (optional)").click()
    for field, column in (("id", "sku"), ("title", "name"), ("price", "cost"), ("brand", "maker")):
        page.get_by_label(f"{field} column", exact=True).fill(column)
    page.locator("#upload-run").click()
    report = page.locator("#upload-report")
    expect(report).to_contain_text("Imported", timeout=60_000)
    expect(report).to_contain_text("2 products")
    expect(report).to_contain_text("not-a-price")
    expect(report).to_contain_text("1 duplicate")
    page.locator("#catalog input").click()
    expect(page.get_by_role("option", name="garden")).to_be_visible(timeout=10_000)
