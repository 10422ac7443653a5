"""Task logs end to end: a real worker captures them, NATS keeps them, the gateway serves them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from pyoco_server.domain.settings import Settings
from tests.support.cli import create_key
from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory, free_port, start_gateway, start_up
from tests.support.runs import submit
from tests.support.sse import Event, events
from tests.support.waiting import wait_terminal

CHATTY = flow_yaml("chatty", "chatty_after", defaults="{x: 7}")
EXPECTED = [
    ("chatty", "stdout", None, "out 7"),
    ("chatty", "stderr", None, "err 7"),
    ("chatty", "log", "INFO", "info 7"),
    ("chatty", "log", "WARNING", "warning 7"),
    ("chatty", "log", "ERROR", "error 7"),
    (None, "stdout", None, "thread 7"),
    ("chatty", "stdout", None, "partial 7"),
    ("chatty_after", "stdout", None, "after 7"),
]


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "PYOCO_SSE_HEARTBEAT_SEC": "0.5"}


def logs(client: httpx.Client, run_id: str, **params: str | int) -> dict[str, Any]:
    response = client.get(f"/runs/{run_id}/logs", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def seen(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (item["task"], item["stream"], item["level"], item["message"].splitlines()[0])
        for item in items
    ]


def ended_run(client: httpx.Client, workflow: bytes) -> str:
    run_id = submit(client, workflow)
    assert wait_terminal(client, run_id)["status"] == "COMPLETED"
    return run_id


def test_every_line_and_record_is_served_by_task_in_order_and_in_pages(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker()
    with gateway.client() as client:
        run_id = ended_run(client, CHATTY)
        page = logs(client, run_id)
        only_after = logs(client, run_id, task="chatty_after")
        pages = [logs(client, run_id, limit=3)]
        while pages[-1]["next_after"] is not None:
            pages.append(logs(client, run_id, limit=3, after=pages[-1]["next_after"]))
        by_task = logs(client, run_id, task="chatty", limit=2, after=pages[0]["items"][1]["seq"])

    assert seen(page["items"]) == EXPECTED
    assert (page["run_id"], page["next_after"], page["truncated"]) == (run_id, None, False)
    seqs = [item["seq"] for item in page["items"]]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert {(item["run_id"], item["attempt"]) for item in page["items"]} == {(run_id, 1)}
    error = page["items"][4]
    assert error["logger"] == "tests.chatty"
    assert "ValueError: oops" in error["message"]
    assert seen(only_after["items"]) == [EXPECTED[-1]]
    assert [len(each["items"]) for each in pages] == [3, 3, 2]
    assert [item for each in pages for item in each["items"]] == page["items"]
    assert seen(by_task["items"]) == EXPECTED[2:4]
    assert by_task["next_after"] == by_task["items"][-1]["seq"]


def test_a_follow_gets_records_as_they_are_written_then_the_end(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker()
    go = tmp_path / "go"
    workflow = flow_yaml("talk", defaults=f"{{lines: 3, width: 4, go_file: '{go}'}}")
    received: list[Event] = []
    with gateway.client(timeout=30.0) as client:
        run_id = submit(client, workflow)
        with client.stream("GET", f"/runs/{run_id}/logs", params={"follow": "true"}) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            for event in events(stream):
                if event.event == "heartbeat":
                    continue
                received.append(event)
                if len(received) == 1:  # the task waits for this file after its first line
                    assert client.get(f"/runs/{run_id}").json()["status"] == "RUNNING"
                    go.touch()
        resumed = client.get(
            f"/runs/{run_id}/logs",
            params={"follow": "true"},
            headers={"Last-Event-ID": received[0].id or ""},
        )

    assert [(event.event, event.data.get("message")) for event in received] == [
        ("log", "...0"),
        ("log", "...1"),
        ("log", "...2"),
        ("end", None),
    ]
    assert received[-1].data == {"run_id": run_id, "status": "COMPLETED"}
    assert [event.id for event in received[:3]] == [
        str(event.data["seq"]) for event in received[:3]
    ]
    replayed = [line for line in resumed.text.splitlines() if line.startswith("event:")]
    assert replayed == ["event: log", "event: log", "event: end"]


def test_a_run_over_its_log_limit_ends_with_one_system_record(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker(env={"PYOCO_RUN_LOG_MAX_BYTES": "25"})
    with gateway.client() as client:
        run_id = ended_run(client, flow_yaml("talk", defaults="{lines: 5, width: 10}"))
        page = logs(client, run_id)
        first = logs(client, run_id, limit=1)

    assert [(item["stream"], item["message"]) for item in page["items"]] == [
        ("stdout", ".........0"),
        ("stdout", ".........1"),
        ("system", "log limit of 25 bytes reached; 30 bytes dropped"),
    ]
    assert page["truncated"] is True
    assert first["truncated"] is True
    assert first["next_after"] == page["items"][0]["seq"]


def test_a_run_without_output_has_an_empty_log_and_an_unknown_run_none(
    gateway: Gateway,
) -> None:
    with gateway.client() as client:
        run_id = submit(client, flow_yaml("add_one", defaults="{x: 1}"))  # no worker: PENDING
        empty = logs(client, run_id)
        client.post(f"/runs/{run_id}/cancel")
        ended = client.get(f"/runs/{run_id}/logs", params={"follow": "true"})
        unknown = client.get("/runs/no-such-run/logs")
        unknown_follow = client.get("/runs/no-such-run/logs", params={"follow": "true"})

    assert empty == {"run_id": run_id, "items": [], "next_after": None, "truncated": False}
    assert ended.text.splitlines()[:2] == [
        "event: end",
        f'data: {{"run_id":"{run_id}","status":"CANCELLED"}}',
    ]
    for response in (unknown, unknown_follow):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["reason"] == "run_not_found"


@pytest.fixture
def secured(settings_env: dict[str, str]) -> dict[str, str]:
    settings_env.update(PYOCO_HTTP_AUTH_MODE="api_key", PYOCO_WATCH_MAX_STREAMS_PER_KEY="1")
    return settings_env


def test_another_tenants_run_log_is_not_found_and_follows_take_watch_slots(
    secured: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    gateway = start_gateway(settings, tmp_path)
    owner, stranger = create_key(settings, "acme", "user"), create_key(settings, "evil", "user")
    try:
        with gateway.client(headers={"X-API-Key": owner}, timeout=30.0) as client:
            run_id = submit(client, flow_yaml("add_one", defaults="{x: 1}"))  # stays PENDING
            assert logs(client, run_id)["run_id"] == run_id
            url = f"/runs/{run_id}/logs"
            with client.stream("GET", url, params={"follow": "true"}) as first:
                assert first.status_code == 200
                second = client.get(url, params={"follow": "true"})
        with gateway.client(headers={"X-API-Key": stranger}) as client:
            page = client.get(url)
            follow = client.get(url, params={"follow": "true"})
    finally:
        gateway.process.stop()

    assert second.status_code == 429
    assert second.json()["reason"] == "too_many_watches"
    assert [page.status_code, follow.status_code] == [404, 404]
    assert page.json()["reason"] == "run_not_found"


def test_the_embedded_nats_users_may_write_read_and_follow_logs(tmp_path: Path) -> None:
    """Under `up`, the worker and the gateway connect as their own NATS users.

    The second line must reach the follow at once, by the gateway's subscription to the run's
    records: a heartbeat's read (10 s) or the run's end (4 s after the line) would be too late.
    """
    go = tmp_path / "go"
    process, url = start_up(
        tmp_path,
        "--nats-client-port",
        str(free_port()),
        "--nats-store-dir",
        str(tmp_path / "store"),
        "--task-modules",
        "tests.support.tasks",
        env={"PYOCO_SSE_HEARTBEAT_SEC": "10"},
    )
    talk = flow_yaml("talk", defaults=f"{{lines: 2, pause_sec: 4, go_file: '{go}'}}")
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            run_id = ended_run(client, CHATTY)
            page = logs(client, run_id)
            live = submit(client, talk)
            received: list[Event] = []
            with client.stream("GET", f"/runs/{live}/logs", params={"follow": "true"}) as stream:
                for event in events(stream):
                    received.append(event)
                    go.touch()
    finally:
        process.stop()

    assert seen(page["items"]) == EXPECTED
    assert [event.event for event in received if event.event != "heartbeat"] == [
        "log",
        "log",
        "end",
    ]
    second = [event for event in received if event.event == "log"][1]
    assert second.received_at - second.data["ts"] < 2.0
