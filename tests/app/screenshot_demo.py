"""Screenshots of the running demo app (the bundled Amazon Beauty catalog) for the README.

    make run            # or: .venv/bin/shopassist serve   (in another terminal)
    .venv/bin/python tests/app/screenshot_demo.py [http://127.0.0.1:7860/]

Writes docs/screenshots/demo-shopper.png (an example request clicked, then its follow-up, then Add to
cart: the Recommended panel must change), demo-merchant-lab.png (the query tester for that shopper,
with "why this rank") and one picture per lab panel: demo-lab-models.png, demo-lab-live.png,
demo-lab-queries.png, demo-lab-health.png. Uses Debian's /usr/bin/chromium; downloads nothing.
(The browser tests write shopper.png / merchant-lab.png / lab-*.png from their tiny test catalog instead.)
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


PANELS = (("Model report", "models-ndcg", "demo-lab-models.png"),
          ("Live activity", "live-latency", "demo-lab-live.png"),
          ("Query insights", "queries-top", "demo-lab-queries.png"),
          ("Catalog health", "health-shares", "demo-lab-health.png"))


def main(url: str = "http://127.0.0.1:7860/") -> None:
    from playwright.sync_api import expect, sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1360, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        expect(page.locator("#recs .sa-card").first).to_be_visible(timeout=60_000)
        page.locator("#shopper input").click()
        page.get_by_role("option").nth(2).click()                 # a demo shopper with history
        expect(page.locator("#history li").first).to_be_visible(timeout=20_000)
        time.sleep(1)
        page.locator("#example-0").click()                        # the first example request (a product type)
        expect(page.locator("#cards .sa-card").first).to_be_visible(timeout=120_000)
        follow_up = page.locator(".sa-example", has_text=re.compile(r"cheaper|second one"))
        if follow_up.count():
            bots = page.locator("#chat [data-testid=bot]").count()
            follow_up.first.click()
            expect(page.locator("#chat [data-testid=bot]")).to_have_count(bots + 1, timeout=120_000)
            expect(page.locator("#thinking .sa-thinking")).to_have_count(0, timeout=120_000)
        time.sleep(1)
        before = page.locator("#recs").inner_text()
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
        expect(page.locator("#lab-why-plot .vega-embed svg .mark-rect path").first).to_be_attached(timeout=30_000)
        time.sleep(1)
        page.screenshot(path=str(OUT / "demo-merchant-lab.png"), full_page=True)
        for tab, plot, name in PANELS:
            page.get_by_role("tab", name=tab).click()
            expect(page.locator(f"#{plot} .vega-embed svg .mark-rect path").first).to_be_attached(timeout=60_000)
            time.sleep(1.5)
            page.screenshot(path=str(OUT / name), full_page=True)
        browser.close()
    if errors:
        raise SystemExit(f"JavaScript errors on the page: {errors}")
    print(f"wrote demo-shopper.png, demo-merchant-lab.png and {', '.join(n for *_, n in PANELS)} in {OUT}")


if __name__ == "__main__":
    main(*sys.argv[1:])
