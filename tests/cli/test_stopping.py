"""Why a run waits or is being stopped, as the CLI shows it; cancel --wait covers the worker's
grace (real gateway, NATS and worker; tasks that ignore pyoco's cancel)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.cli import document, ok
from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import wait_until

GRACE_SEC = 32
"""A worker grace longer than the 30 s the CLI's cancel --wait used to give up after."""


def start_sleeper(gateway: Gateway, tmp_path: Path, *options: str) -> str:
    """Submit a run whose one task sleeps an hour; its id once the task runs."""
    flow_file = tmp_path / "sleep.yaml"
    flow_file.write_bytes(flow_yaml("sleep_for"))
    pid_file = tmp_path / "task.pid"
    params = f'{{"seconds": 3600, "pid_file": "{pid_file}"}}'
    run_id: str = document(
        ok(
            "--server", gateway.url, "submit-yaml", "--workflow-file", str(flow_file),
            "--flow-name", "main", "--params", params, *options,
        ).stdout
    )["run_id"]  # fmt: skip
    wait_until(pid_file.exists, timeout=30, what="the task to start")
    return run_id


def fields(gateway: Gateway, run_id: str) -> list[str]:
    result = ok("--server", gateway.url, "get", run_id, "--output", "table", env={"COLUMNS": "200"})
    return [line.strip() for line in result.stdout.splitlines()]


def test_cancel_wait_covers_the_workers_grace(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker(env={"PYOCO_CANCEL_GRACE_PERIOD_SEC": str(GRACE_SEC)})
    run_id = start_sleeper(gateway, tmp_path)
    asked = document(ok("--server", gateway.url, "cancel", run_id, "--reason", "slow").stdout)
    assert asked["status"] == "CANCELLING"
    assert asked["stopping"]["reason"] == "cancel"

    def deadline_known() -> float | None:
        run = document(ok("--server", gateway.url, "get", run_id).stdout)
        return (run.get("stopping") or {}).get("deadline_at")

    deadline = float(wait_until(deadline_known, timeout=10, what="the kill deadline"))  # type: ignore[arg-type]
    assert deadline > time.time() + GRACE_SEC - 10
    shown = fields(gateway, run_id)
    assert any(line.startswith("stopping: a cancel was asked for") for line in shown), shown
    assert any("its process is killed at" in line for line in shown), shown

    started = time.monotonic()
    waited = ok("--server", gateway.url, "cancel", run_id, "--wait")
    assert document(waited.stdout)["status"] == "CANCELLED"
    assert time.monotonic() - started < GRACE_SEC + 10


def test_a_pending_run_says_why_it_waits(gateway: Gateway) -> None:
    run_id = document(ok("--server", gateway.url, "submit", "--tag", "nobody").stdout)["run_id"]
    run = document(ok("--server", gateway.url, "get", run_id).stdout)
    detail = run["waiting"]["detail"]
    assert run["waiting"]["reason"] == "no_worker"
    assert detail in fields(gateway, run_id)
    line = ok("--server", gateway.url, "watch", run_id, "--output", "status", "--max-events", "1")
    assert line.stdout.rstrip("\n").split("\t")[2:] == ["PENDING", run_id, detail]


def test_a_run_over_its_time_limit_shows_why_it_stops(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker(env={"PYOCO_CANCEL_GRACE_PERIOD_SEC": "3"})
    flow_file = tmp_path / "sleep.yaml"
    flow_file.write_bytes(flow_yaml("sleep_for", defaults="{seconds: 3600}"))
    run_id = document(
        ok(
            "--server", gateway.url, "submit-yaml", "--workflow-file", str(flow_file),
            "--flow-name", "main", "--timeout-sec", "1",
        ).stdout
    )["run_id"]  # fmt: skip
    watched = ok(
        "--server", gateway.url, "watch", run_id, "--output", "status", "--timeout-sec", "60"
    )
    lines = [line.split("\t") for line in watched.stdout.splitlines()]
    stopping = [line for line in lines if line[2] == "CANCELLING"]
    assert stopping, watched.stdout
    assert stopping[-1][4].startswith("stopping: it went over its time limit (timeout_sec)")
    assert lines[-1][2] == "FAILED"
    assert document(ok("--server", gateway.url, "get", run_id).stdout)["error_reason"] == "timeout"
