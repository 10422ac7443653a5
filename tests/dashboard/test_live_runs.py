"""The runs view in a real Chromium against a real gateway and worker: pushed updates, the
language switch, and values with markup shown as text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pyoco_server.domain.settings import Settings
from tests.support.browser import Tab
from tests.support.cli import run_cli
from tests.support.flows import FLOW_YAML, flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import submit
from tests.support.seeding import put_worker
from tests.support.waiting import wait_terminal

MARKUP = "<img src=x onerror=alert(1)>"


def test_a_run_submitted_from_the_cli_appears_and_completes_without_a_reload(
    gateway: Gateway, start_worker: WorkerFactory, tab: Tab, tmp_path: Path
) -> None:
    start_worker()
    page = tab.page
    page.goto(f"{gateway.url}/")
    expect(page.locator(".view-head .live")).to_have_text("Live")
    page.evaluate("window.loadedOnce = true")
    flow = tmp_path / "flow.yaml"
    flow.write_bytes(FLOW_YAML)

    done = run_cli(
        "--server", gateway.url, "submit-yaml", "--workflow-file", str(flow), "--flow-name", "main"
    )

    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout.splitlines()[0])["run_id"]
    row = page.locator(f'tr[data-run-id="{run_id}"]')
    expect(row).to_have_attribute("data-status", "COMPLETED")
    expect(row.locator(".badge")).to_have_text("Completed")
    expect(page.locator(".count-completed .count-value")).to_have_text("1")
    assert page.evaluate("window.loadedOnce") is True  # the same page: nothing reloaded it
    tab.screenshot("runs")
    assert tab.errors == []


def test_the_language_switch_changes_every_string_and_is_kept(gateway: Gateway, tab: Tab) -> None:
    page = tab.page
    page.goto(f"{gateway.url}/#/runs")
    expect(page.locator("h1")).to_have_text("Runs")
    english = page.locator("body").inner_text()

    page.select_option("#lang-select", "ja")

    expect(page.locator("h1")).to_have_text("ラン")
    expect(page.locator('.nav a[data-view="workers"]')).to_have_text("ワーカー")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator(".view-head .live")).to_have_text("ライブ")
    expect(page.locator(".page-label")).to_have_text("1 ページ目")
    japanese = page.locator("body").inner_text()
    for word in ("Runs", "Workers", "Previous page", "Apply", "Status"):
        assert word in english
        assert word not in japanese, word
    tab.screenshot("runs-ja")
    page.reload()
    expect(page.locator("h1")).to_have_text("ラン")  # the choice is remembered
    assert tab.errors == []


@pytest.mark.parametrize("accept", ["ja-JP,ja;q=0.9,en;q=0.5", "en-US,en;q=0.9,ja;q=0.8"])
def test_auto_follows_the_browsers_language(gateway: Gateway, browser: object, accept: str) -> None:
    from tests.support.browser import open_tab

    tab = open_tab(
        browser, locale=accept.split(",")[0], extra_http_headers={"Accept-Language": accept}
    )  # type: ignore[arg-type]
    try:
        tab.page.goto(f"{gateway.url}/")
        expect(tab.page.locator("h1")).to_have_text("ラン" if accept.startswith("ja") else "Runs")
    finally:
        tab.context.close()


def test_values_with_markup_are_shown_as_text(
    gateway: Gateway, start_worker: WorkerFactory, settings: Settings, tab: Tab
) -> None:
    start_worker()
    put_worker(settings, "w-markup", hostname=MARKUP)
    with gateway.client() as client:
        by_name = client.post("/runs", json={"flow_name": MARKUP, "tag": "nobody"}).json()
        failing = submit(client, flow_yaml("fail"), params=json.dumps({"x": MARKUP}))
        assert wait_terminal(client, failing)["status"] == "FAILED"
    page = tab.page

    page.goto(f"{gateway.url}/#/runs")
    expect(page.locator(f'tr[data-run-id="{by_name["run_id"]}"] .col-flow')).to_have_text(MARKUP)
    page.goto(f"{gateway.url}/#/runs/{failing}")
    expect(page.locator(".note-error")).to_contain_text(f"boom: x was {MARKUP}")
    page.goto(f"{gateway.url}/#/workers")
    expect(page.locator('tr[data-worker-id="w-markup"]')).to_contain_text(MARKUP)

    assert page.locator("img[src='x']").count() == 0
    assert tab.dialogs == []
    assert page.evaluate("document.querySelectorAll('main img').length") == 0
    assert not any(re.search("alert", error) for error in tab.errors)
