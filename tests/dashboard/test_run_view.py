"""The run view in a real Chromium: the task graph follows the run live, and cancel works."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.support.browser import Tab
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import submit
from tests.support.waiting import wait_terminal, wait_until

FAN_OUT = b"""\
version: 1
flow:
  graph: |
    add_one >> (first: echo & slow: sleep_for) >> to_text
tasks:
  add_one: {callable: "pyoco_server._workflow_test_tasks:add_one"}
  echo: {callable: "tests.support.tasks:echo"}
  sleep_for: {callable: "tests.support.tasks:sleep_for"}
  to_text: {callable: "pyoco_server._workflow_test_tasks:to_text"}
"""


def test_the_graph_is_drawn_and_a_node_changes_state_live(
    gateway: Gateway, start_worker: WorkerFactory, tab: Tab
) -> None:
    start_worker()
    with gateway.client() as client:
        run_id = submit(client, FAN_OUT, params=json.dumps({"x": 1, "seconds": 3}))
    page = tab.page
    page.goto(f"{gateway.url}/#/runs/{run_id}")
    slow = page.locator('.graph g.node[data-task="slow"]')

    expect(slow).to_have_attribute("data-state", "RUNNING")
    expect(page.locator(".graph path.edge")).to_have_count(4)
    edges = {
        (edge.get_attribute("data-source"), edge.get_attribute("data-target"))
        for edge in page.locator(".graph path.edge").all()
    }
    assert edges == {
        ("add_one", "first"),
        ("add_one", "slow"),
        ("first", "to_text"),
        ("slow", "to_text"),
    }
    tab.screenshot("run-running")
    expect(slow).to_have_attribute("data-state", "SUCCEEDED", timeout=20_000)
    expect(slow.locator(".node-state")).to_have_text("Succeeded")
    expect(page.locator('.graph g.node[data-task="to_text"]')).to_have_attribute(
        "data-state", "SUCCEEDED"
    )
    expect(page.locator(".view-head .badge")).to_have_text("Completed")
    expect(page.locator("#cancel-run")).to_be_disabled()
    expect(page.locator('tr[data-task="to_text"]')).to_contain_text("Succeeded")
    tab.screenshot("run")
    assert tab.errors == []


def test_a_sleeping_run_is_cancelled_from_the_page(
    gateway: Gateway, start_worker: WorkerFactory, tab: Tab
) -> None:
    start_worker()
    with gateway.client() as client:
        run_id = submit(
            client,
            b'version: 1\nflow: {graph: sleep_for}\ntasks: {sleep_for: {callable: "tests.support.tasks:sleep_for"}}\n',
            params=json.dumps({"seconds": 60}),
        )
        wait_until(lambda: client.get(f"/runs/{run_id}").json()["status"] == "RUNNING", 30)
    page = tab.page
    page.goto(f"{gateway.url}/#/runs/{run_id}")
    cancel = page.locator("#cancel-run")
    expect(cancel).to_be_enabled()

    cancel.click()
    expect(cancel).to_have_text("Confirm cancel")
    cancel.click()

    expect(page.locator(".view-head .badge")).to_have_text("Cancelled", timeout=30_000)
    expect(cancel).to_be_disabled()
    with gateway.client() as client:
        assert wait_terminal(client, run_id)["status"] == "CANCELLED"
    assert tab.dialogs == []
    assert tab.errors == []
