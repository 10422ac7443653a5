"""With 10,000 stored runs the first page renders in under a second and paging stays quick;
the narrow and dark layouts are pictured."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import expect

from pyoco_server.domain.settings import Settings
from tests.support.browser import Tab
from tests.support.processes import start_gateway
from tests.support.seeding import seed_runs

RUNS = 10_000
FIRST_PAGE_MS = 1000
NEXT_PAGE_MS = 500


def test_ten_thousand_runs_first_page_under_a_second_and_paging_responsive(
    settings: Settings, tab: Tab, tmp_path: Path
) -> None:
    ids = seed_runs(settings, RUNS)
    gateway = start_gateway(settings, tmp_path)
    with gateway.client() as client:
        assert client.get("/runs", params={"limit": 1}).json()["items"][0]["run_id"] == ids[-1]
    page = tab.page

    page.goto(f"{gateway.url}/#/runs")
    rows = page.locator("tbody tr[data-run-id]")
    expect(rows).to_have_count(50)
    rendered = page.evaluate("performance.getEntriesByName('runs-rendered')[0].startTime")
    assert rendered < FIRST_PAGE_MS, f"first page rendered {rendered:.0f} ms after navigation"
    expect(page.locator(".counts button").first).to_contain_text("10,000")
    print(f"first page rendered {rendered:.0f} ms after navigation start")

    for page_number in range(2, 7):
        started = time.perf_counter()
        page.get_by_role("button", name="Next page").click()
        expect(page.locator(".page-label")).to_have_text(f"Page {page_number}")
        expect(rows.first).to_have_attribute("data-run-id", ids[-1 - (page_number - 1) * 50])
        took = (time.perf_counter() - started) * 1000
        assert took < NEXT_PAGE_MS, f"page {page_number} took {took:.0f} ms"
        print(f"page {page_number}: {took:.0f} ms")
    page.get_by_role("button", name="Previous page").click()
    expect(page.locator(".page-label")).to_have_text("Page 5")
    assert tab.errors == []
    gateway.process.stop()


def test_the_narrow_and_dark_layouts(settings: Settings, browser: object, tmp_path: Path) -> None:
    from tests.support.browser import open_tab

    seed_runs(settings, 30)
    gateway = start_gateway(settings, tmp_path)
    tab = open_tab(browser, width=768, height=1000, color_scheme="dark")  # type: ignore[arg-type]
    try:
        page = tab.page
        page.goto(f"{gateway.url}/#/runs")
        expect(page.locator("tbody tr[data-run-id]")).to_have_count(30)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(18, 22, 29)"  # the dark palette
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 768, f"the page is {width} px wide at 768 px"
        tab.screenshot("runs-768-dark")
        page.click("#theme-button")  # system -> light
        assert (
            page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 247, 249)"
        )
        page.reload()  # from the top, by keyboard: the skip link, then the view
        expect(page.locator("tbody tr[data-run-id]")).to_have_count(30)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "skip"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "BUTTON"  # a status count
        assert tab.errors == []
    finally:
        tab.context.close()
        gateway.process.stop()
