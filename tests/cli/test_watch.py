"""`pyoco-client watch` and `Client.watch` against real gateways: events as lines, a run that
stays quiet for longer than any read timeout, and a gateway that dies mid-watch."""

from __future__ import annotations

import itertools
import json
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from pyoco_client import Client, WatchEvent
from pyoco_server.domain.settings import Settings
from tests.support.cli import document, invoke, ok, run_cli
from tests.support.flows import flow_yaml
from tests.support.processes import (
    Gateway,
    Process,
    WorkerFactory,
    free_port,
    http_ok,
    process_env,
    start_gateway,
    start_process,
)
from tests.support.waiting import wait_terminal, wait_until


def submit_yaml(gateway: Gateway, path: Path, *args: str) -> str:
    result = ok("--server", gateway.url, "submit-yaml", "--workflow-file", str(path), *args)
    run_id: str = document(result.stdout)["run_id"]
    return run_id


@pytest.fixture
def sleepy_flow(tmp_path: Path) -> Path:
    path = tmp_path / "sleepy.yaml"
    path.write_bytes(flow_yaml("sleep_for", "echo", defaults="{x: done, seconds: 0}"))
    return path


def test_watch_prints_one_json_object_per_event(
    gateway: Gateway, start_worker: WorkerFactory, sleepy_flow: Path
) -> None:
    start_worker()
    run_id = submit_yaml(
        gateway, sleepy_flow, "--flow-name", "main", "--params", '{"seconds": 0.3}'
    )
    result = ok("--server", gateway.url, "watch", run_id, "--records")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(set(event) == {"event", "id", "run_id", "ts", "snapshot"} for event in events)
    snapshots = [event for event in events if event["event"] == "snapshot"]
    assert snapshots[-1]["snapshot"]["status"] == "COMPLETED"
    assert snapshots[-1]["snapshot"]["task_records"]["echo"]["output"] == "done"
    assert "RUNNING" in [event["snapshot"]["status"] for event in snapshots]
    ids = [int(event["id"]) for event in snapshots]
    assert ids == sorted(set(ids))

    # Resuming after the first event gives the rest; --since leaves out older snapshots.
    resumed = ok("--server", gateway.url, "watch", run_id, "--last-event-id", str(ids[0]))
    assert [json.loads(line)["id"] for line in resumed.stdout.splitlines()] == [
        str(i) for i in ids[1:]
    ]
    since = snapshots[-1]["snapshot"]["updated_at"]
    late = ok("--server", gateway.url, "watch", run_id, "--since", str(since), "--until-terminal")
    assert [json.loads(line)["id"] for line in late.stdout.splitlines()] == [str(ids[-1])]


def test_watch_status_lines_and_max_events(gateway: Gateway) -> None:
    run_id = document(ok("--server", gateway.url, "submit", "--tag", "nowhere").stdout)["run_id"]
    first = ok("--server", gateway.url, "watch", run_id, "--output", "status", "--max-events", "1")
    ts, event, status, shown_run, why = first.stdout.rstrip("\n").split("\t")
    assert (event, status, shown_run) == ("snapshot", "PENDING", run_id)
    assert float(ts) > 0
    assert "'nowhere'" in why  # why the run waits: no worker for its tag

    ok("--server", gateway.url, "cancel", "--run-id", run_id)
    ended = ok("--server", gateway.url, "watch", run_id, "--output", "status")
    assert ended.stdout.splitlines()[-1].split("\t")[1:] == ["snapshot", "CANCELLED", run_id]


def test_watch_timeout_sec_gives_up_with_exit_1(gateway: Gateway) -> None:
    run_id = document(ok("--server", gateway.url, "submit", "--tag", "nowhere").stdout)["run_id"]
    result = invoke("--server", gateway.url, "watch", run_id, "--timeout-sec", "1")
    assert result.exit_code == 1
    assert json.loads(result.stdout.splitlines()[0])["snapshot"]["status"] == "PENDING"
    assert result.stderr.splitlines() == [
        f"pyoco-client: error: run {run_id!r} did not end within 1s",
        f"  hint: the run goes on; follow it with `pyoco-client watch {run_id}`",
    ]


@pytest.mark.slow
def test_a_watch_survives_a_run_quiet_for_many_read_timeouts(
    settings: Settings, tmp_path: Path, start_worker: WorkerFactory, sleepy_flow: Path
) -> None:
    """The original client died after 5 s of silence (httpx's read timeout): not any more.

    The worker's run heartbeat is slowed down so that the run's snapshot does not change while
    its task sleeps for 12 s; the gateway sends its heartbeat every 4 s, twice the client's
    --timeout of 2 s, so the client reads nothing for 4 s at a time, 6 times its timeout.
    """
    gateway = start_gateway(settings, tmp_path, PYOCO_SSE_HEARTBEAT_SEC="4")
    try:
        start_worker(env={"PYOCO_RUN_HEARTBEAT_INTERVAL_SEC": "300"})
        run_id = submit_yaml(
            gateway, sleepy_flow, "--flow-name", "main", "--params", '{"seconds": 12}'
        )
        started = time.monotonic()
        result = run_cli(
            "--server", gateway.url, "--timeout", "2", "watch", run_id, "--output", "status"
        )
        took = time.monotonic() - started
    finally:
        gateway.process.stop()
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert lines[-1][1:3] == ["snapshot", "COMPLETED"]
    assert ["heartbeat", "-"] in [line[1:3] for line in lines]
    snapshot_times = [float(line[0]) for line in lines if line[1] == "snapshot"]
    longest_quiet = max(b - a for a, b in itertools.pairwise(snapshot_times))
    assert longest_quiet > 10
    assert took > 11


def start_gateway_on(settings: Settings, log_dir: Path, port: int) -> Process:
    """A gateway on `port` (so that a successor can take the same URL)."""
    process = start_process(
        "gateway",
        [sys.executable, "-m", "pyoco_server.gateway", "--port", str(port)],
        process_env(settings),
        log_dir,
    )
    wait_until(
        lambda: (
            http_ok(f"http://127.0.0.1:{port}/health")
            or (not process.alive() and pytest.fail(process.log()))
        ),
        timeout=30,
        what="the gateway",
    )
    return process


def test_a_watch_resumes_after_its_gateway_is_killed(
    settings: Settings,
    gateway: Gateway,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    """Kill the gateway mid-watch; the run ends while it is down; a new gateway takes its port.

    The watch reconnects by itself with Last-Event-ID and receives exactly the revisions written
    after the last one it saw (`gateway`, on another port, is the witness).
    """
    start_worker()
    port = free_port()
    first = start_gateway_on(settings, tmp_path, port)
    pid_file = tmp_path / "task.pid"
    events: list[WatchEvent] = []
    failures: list[BaseException] = []
    with Client(f"http://127.0.0.1:{port}", timeout=5) as client:
        run_id = client.submit_yaml(
            flow_yaml("sleep_for", "echo"),
            "main",
            params={"seconds": 3, "pid_file": str(pid_file), "x": 1},
        )["run_id"]

        def follow() -> None:
            try:
                for event in client.watch(run_id):
                    events.append(event)
            except BaseException as exc:  # reported by the test below
                failures.append(exc)
                raise

        watcher = threading.Thread(target=follow)
        watcher.start()
        wait_until(pid_file.exists, timeout=30, what="the task to start")
        wait_until(lambda: any(event.status == "RUNNING" for event in list(events)))
        seen_before_kill = list(events)
        first.signal(signal.SIGKILL)
        first.wait()
        with gateway.client() as witness:
            assert wait_terminal(witness, run_id)["status"] == "COMPLETED"
        second = start_gateway_on(settings, tmp_path, port)
        try:
            watcher.join(timeout=60)
        finally:
            second.stop()
    assert not watcher.is_alive()
    assert failures == []
    last_before = seen_before_kill[-1].id
    after = events[len(seen_before_kill) :]
    assert [event.id for event in after] == expected_after(gateway, run_id, last_before)
    assert after[-1].status == "COMPLETED"


def expected_after(gateway: Gateway, run_id: str, last_event_id: str | None) -> list[str | None]:
    """The ids a watch resumed after `last_event_id` gets (asked of another gateway)."""
    with Client(gateway.url) as client:
        return [event.id for event in client.watch(run_id, last_event_id=last_event_id)]
