"""The operator's views in a real Chromium: workers, dead letters, wheels, metrics, API keys."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from pyoco_server.domain.settings import Settings
from tests.support.browser import Tab
from tests.support.cli import create_key
from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory, start_gateway
from tests.support.runs import submit
from tests.support.waiting import wait_terminal, wait_until
from tests.support.wheels import wheel_bytes


def test_a_worker_is_hidden_from_the_page(
    gateway: Gateway, start_worker: WorkerFactory, tab: Tab
) -> None:
    start_worker(worker_id="w-visible")
    page = tab.page
    page.goto(f"{gateway.url}/#/workers")
    row = page.locator('tr[data-worker-id="w-visible"]')
    expect(row.locator(".badge")).to_have_text("Idle")
    tab.screenshot("workers")

    row.get_by_role("button", name="Hide").click()

    expect(row).to_have_count(0)
    with gateway.client() as client:
        workers = client.get("/workers", params={"scope": "all", "include_hidden": True}).json()[
            "items"
        ]
    assert [worker["hidden"] for worker in workers if worker["worker_id"] == "w-visible"] == [True]
    page.check("#show-hidden")
    expect(row.get_by_role("button", name="Show")).to_be_visible()
    assert tab.errors == []


def test_a_dead_letter_is_redriven_from_the_page(
    gateway: Gateway, start_worker: WorkerFactory, tab: Tab
) -> None:
    start_worker()
    with gateway.client() as client:
        run_id = submit(client, flow_yaml("fail"), params=json.dumps({"x": 1}))
        assert wait_terminal(client, run_id)["status"] == "FAILED"
        wait_until(lambda: client.get("/dlq").json()["items"], 20, "the dead letter")
    page = tab.page
    page.goto(f"{gateway.url}/#/dlq")
    redrive = page.get_by_role("button", name="Redrive")
    expect(page.locator("tbody tr")).to_have_count(1)
    tab.screenshot("dlq")

    redrive.click()
    page.get_by_role("button", name="Confirm redrive").click()

    expect(page.locator("#notice")).to_contain_text(f"Run {run_id} is queued again.")
    with gateway.client() as client:
        wait_until(lambda: len(client.get(f"/runs/{run_id}").json()["attempts"]) == 2, 30)
    assert tab.errors == []


def test_an_admin_uploads_a_wheel_and_sees_the_metrics(
    gateway: Gateway, tab: Tab, tmp_path: Path
) -> None:
    wheel = tmp_path / "my_ext-0.1.0-py3-none-any.whl"
    wheel.write_bytes(wheel_bytes())
    with gateway.client() as client:
        for _ in range(3):
            client.post("/runs", json={"flow_name": "main", "tag": "nobody"})
    page = tab.page
    page.goto(f"{gateway.url}/#/wheels")
    page.set_input_files("#wheel-file", str(wheel))
    page.fill("#wheel-tags", "cpu")
    page.get_by_role("button", name="Upload", exact=True).click()

    expect(page.locator('tr[data-wheel="my_ext-0.1.0-py3-none-any.whl"]')).to_contain_text("cpu")
    expect(page.locator("table").last).to_contain_text("my_ext-0.1.0-py3-none-any.whl")
    tab.screenshot("wheels")
    page.goto(f"{gateway.url}/#/metrics")
    expect(page.locator(".card").first).to_contain_text("3")
    expect(page.locator("svg.chart")).to_have_count(3)
    tab.screenshot("metrics")
    assert tab.errors == []


def test_api_keys_are_asked_for_and_a_user_key_sees_no_admin_controls(
    settings: Settings, tab: Tab, tmp_path: Path
) -> None:
    gateway = start_gateway(settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key")
    user = create_key(settings, "acme", "user")
    admin = create_key(settings, "ops", "admin")
    page = tab.page
    page.goto(f"{gateway.url}/")
    expect(page.locator("#auth-message")).to_contain_text("needs an API key")

    page.fill("#auth-key", "pyoco_0123456789abcdef.wrongwrongwrongwrong")
    page.click("#auth-form button[type=submit]")
    expect(page.locator("#auth-message")).to_contain_text("403")

    page.fill("#auth-key", user)
    page.click("#auth-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Runs")
    expect(page.locator('.nav a[data-view="workers"]')).to_be_hidden()
    expect(page.locator('.nav a[data-view="metrics"]')).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('pyoco.api_key')") == user
    assert page.evaluate("localStorage.getItem('pyoco.api_key')") is None
    page.goto(f"{gateway.url}/#/wheels")
    expect(page.locator("h1")).to_have_text("Wheels")
    expect(page.locator("#wheel-file")).to_have_count(0)
    page.goto(f"{gateway.url}/#/workers")
    expect(page.locator("main")).to_contain_text("needs an admin key")

    page.click("#key-button")
    page.fill("#auth-key", admin)
    page.click("#auth-form button[type=submit]")
    expect(page.locator('.nav a[data-view="workers"]')).to_be_visible()
    expect(page.locator("h1")).to_have_text("Workers")
    gateway.process.stop()
