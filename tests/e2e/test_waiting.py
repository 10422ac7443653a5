"""Why is my run PENDING: submit warnings, `waiting` in GET and watch, queue metrics.

A real gateway, NATS and workers; the waiting reasons follow the worker registry as workers
start, fill their slots and fail runs that are retried later.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.sse import events
from tests.support.waiting import wait_terminal, wait_until

QUICK_EXIT = {"PYOCO_WORKER_SHUTDOWN_GRACE_SEC": "1"}
"""Workers left with a sleeping run stop at once at the end of a test."""


def submit_yaml(client: httpx.Client, workflow: bytes, **data: str) -> dict[str, object]:
    response = client.post(
        "/runs/yaml",
        files={"workflow": ("flow.yaml", workflow)},
        data={"flow_name": "main", **data},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def waiting(client: httpx.Client, run_id: str) -> dict[str, object] | None:
    snapshot = client.get(f"/runs/{run_id}").json()
    found: dict[str, object] | None = snapshot.get("waiting")
    return found


def test_a_tag_nobody_serves_is_said_at_submit_in_get_watch_and_metrics(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    with gateway.client(timeout=30) as client:
        accepted = submit_yaml(
            client, flow_yaml("add_one", "to_text", defaults="{x: 1}"), tag="late"
        )
        run_id = str(accepted["run_id"])
        expected = "no worker has served tag 'late' in the last 20 s"
        assert any(expected in warning for warning in accepted["warnings"])  # type: ignore[attr-defined]
        assert "pyoco-worker --tags late" in str(accepted["warnings"])
        shown = waiting(client, run_id)
        assert shown is not None
        assert (shown["reason"], shown["workers"]) == ("no_worker", 0)
        assert expected in str(shown["detail"])
        metrics = client.get("/metrics").text
        assert 'pyoco_queue_pending{tag="other"} 1.0' in metrics  # no consumer, still counted
        with client.stream("GET", f"/runs/{run_id}/watch") as response:
            stream = events(response)
            first = next(stream)
            assert first.data["snapshot"]["waiting"]["reason"] == "no_worker"
            start_worker(tags=("late",))
            later = [event.data["snapshot"] for event in stream if event.event == "snapshot"]
        assert later[-1]["status"] == "COMPLETED", str(later[-1])
        assert all(
            "waiting" not in snapshot for snapshot in later if snapshot["status"] != "PENDING"
        )
        again = submit_yaml(client, flow_yaml("add_one", "to_text", defaults="{x: 1}"), tag="late")
        assert again["warnings"] == []
        wait_terminal(client, str(again["run_id"]))


def test_a_full_worker_makes_later_runs_wait_with_their_place_in_line(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker(tags=("solo",), args=("--concurrency", "1"), env=QUICK_EXIT)
    sleeper = flow_yaml("sleep_for", defaults="{seconds: 0.1}")
    with gateway.client(timeout=30) as client:
        first = str(submit_yaml(client, sleeper, tag="solo", params='{"seconds": 60}')["run_id"])
        wait_until(
            lambda: client.get(f"/runs/{first}").json()["status"] == "RUNNING",
            timeout=30,
            what="the first run to take the only slot",
        )
        second = str(submit_yaml(client, sleeper, tag="solo")["run_id"])
        third = str(submit_yaml(client, sleeper, tag="solo")["run_id"])

        def busy(run_id: str) -> dict[str, object] | None:
            shown = waiting(client, run_id)
            return shown if shown and shown["reason"] == "workers_busy" else None

        shown = wait_until(lambda: busy(third), timeout=10, what="the third run to wait")
        assert (shown["ahead"], shown["workers"]) == (1, 1)  # type: ignore[index]
        assert "1 job of the tag queued before this one" in shown["detail"]  # type: ignore[index]
        # The worker's record says its slot is taken within a second of the run's start.
        ahead_of_second = wait_until(lambda: busy(second), timeout=10, what="the second to wait")
        assert ahead_of_second["ahead"] == 0  # type: ignore[index]


def test_a_scheduled_retry_says_when_it_is_due(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker(tags=("flaky",), env=QUICK_EXIT)
    retry = json.dumps({"max_attempts": 2, "backoff_sec": 60})
    with gateway.client(timeout=30) as client:
        before = time.time()
        run_id = str(
            submit_yaml(client, flow_yaml("fail", defaults="{x: 1}"), tag="flaky", retry=retry)[
                "run_id"
            ]
        )

        def retrying() -> dict[str, object] | None:
            shown = waiting(client, run_id)
            return shown if shown and shown["reason"] == "retry_scheduled" else None

        shown = wait_until(retrying, timeout=30, what="the failed attempt to be retried later")
    assert before + 55 < float(shown["retry_at"]) < time.time() + 61  # type: ignore[index,arg-type]
    assert "attempt 1 failed (execution_error)" in str(shown["detail"])  # type: ignore[index]


@pytest.mark.parametrize("path", ["/runs", "/runs/yaml"])
def test_a_replay_shows_where_the_run_has_got_to(
    gateway: Gateway, start_worker: WorkerFactory, path: str
) -> None:
    start_worker()
    headers = {"Idempotency-Key": f"replay-{path}"}
    with gateway.client(timeout=30) as client:

        def send() -> httpx.Response:
            if path == "/runs":
                return client.post(
                    path, json={"flow_name": "double", "params": {"x": 2}}, headers=headers
                )
            return client.post(
                path,
                files={
                    "workflow": ("flow.yaml", flow_yaml("add_one", "to_text", defaults="{x: 1}"))
                },
                data={"flow_name": "main"},
                headers=headers,
            )

        first = send()
        assert first.json()["status"] == "PENDING"
        ended = wait_terminal(client, first.json()["run_id"])
        replay = send()
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["run_id"] == first.json()["run_id"]
    assert replay.json()["status"] == ended["status"] != "PENDING"
