"""Screenshots of the running demo app (the bundled Amazon Beauty catalog) for the README.

    make run            # or: .venv/bin/shopassist serve   (in another terminal)
    .venv/bin/python tests/app/screenshot_demo.py [http://127.0.0.1:7860/]

Writes docs/screenshots/demo-shopper.png and docs/screenshots/demo-merchant-lab.png. It picks a demo
shopper, asks for a product, adds a card to the cart (the Recommended panel must change), then
runs the merchant query tester for that shopper. Uses Debian's /usr/bin/chromium; downloads nothing.
(The browser test writes shopper.png / merchant-lab.png from its tiny test catalog instead.)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def main(url: str = "http://127.0.0.1:7860/") -> None:
    from playwright.sync_api import expect, sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1360, "height": 1000})
        page.goto(url)
        expect(page.locator("#recs .sa-card").first).to_be_visible(timeout=60_000)
        page.locator("#shopper input").click()
        page.get_by_role("option").nth(2).click()                 # a demo shopper with history
        expect(page.locator("#history li").first).to_be_visible(timeout=20_000)
        time.sleep(1)
        before = page.locator("#recs").inner_text()
        page.locator("#msg textarea").fill("a moisturizer for dry skin")
        page.locator("#msg textarea").press("Enter")
        expect(page.locator("#cards .sa-card").first).to_be_visible(timeout=120_000)
        time.sleep(1)
        page.locator("#cards .sa-card").nth(1).get_by_role("button", name="Add to cart", exact=True).click()
        expect(page.locator("#event-status")).to_contain_text("Added to cart", timeout=20_000)
        expect(page.locator("#recs")).not_to_have_text(before, timeout=20_000)
        page.screenshot(path=str(OUT / "demo-shopper.png"), full_page=True)

        user_id = page.locator("#user-id input, #user-id textarea").first.input_value()
        page.get_by_role("tab", name="Merchant lab").click()
        page.locator("#lab-user input").fill(user_id)
        page.locator("#lab-user input").press("Enter")
        page.locator("#lab-query textarea").fill("vitamin c serum for dull skin")
        page.locator("#lab-run").click()
        expect(page.locator("#lab-plain")).to_contain_text("score", timeout=120_000)
        time.sleep(1)
        page.screenshot(path=str(OUT / "demo-merchant-lab.png"), full_page=True)
        browser.close()
    print(f"wrote {OUT / 'demo-shopper.png'} and {OUT / 'demo-merchant-lab.png'}")


if __name__ == "__main__":
    main(*sys.argv[1:])
