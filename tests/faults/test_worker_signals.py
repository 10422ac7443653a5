"""Signals a worker meets in production, sent as they are sent: to its whole process group
(a terminal's Ctrl-C, a service manager's stop), or SIGKILL to its pid alone (the OOM killer).

A group stop lets the run in flight finish within the shutdown grace; a killed worker leaves no
process behind, and its run is done once, by another worker.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from tests.support.effects import effect_counts, submit_effect, wait_all_ended
from tests.support.processes import Gateway, WorkerFactory, children_of, pid_alive
from tests.support.runs import status
from tests.support.waiting import wait_until

pytestmark = pytest.mark.serial


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (its fork server, run processes, their children)."""
    found = []
    for child in children_of(pid):
        found += [child, *descendants(child)]
    return found


@pytest.fixture
def effects(tmp_path: Path) -> Path:
    path = tmp_path / "effects"
    path.mkdir()
    return path


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_sent_to_the_workers_group_lets_the_run_finish(
    gateway: Gateway, start_worker: WorkerFactory, effects: Path, signum: int
) -> None:
    worker = start_worker(own_group=True, env={"PYOCO_WORKER_SHUTDOWN_GRACE_SEC": "30"})
    with gateway.client() as client:
        run_id = submit_effect(client, effects, "run", seconds=2.0).json()["run_id"]
        wait_until(lambda: status(client, run_id)["status"] == "RUNNING", timeout=30)
        below = descendants(worker.pid)
        assert below, "the worker has no fork server or run process"

        os.killpg(worker.pid, signum)  # the worker leads its group: everyone in it gets it

        assert worker.wait(timeout=60) == 0, worker.log()
        (ended,) = wait_all_ended(client, [run_id]).values()
    assert ended["status"] == "COMPLETED", ended
    assert effect_counts(effects) == {"run": 1}
    wait_until(lambda: not any(pid_alive(pid) for pid in below), timeout=10, what="children")


def test_a_worker_killed_alone_leaves_no_process_and_its_run_is_done_once_elsewhere(
    gateway: Gateway, start_worker: WorkerFactory, effects: Path
) -> None:
    fast = {"PYOCO_CONSUMER_ACK_WAIT_SEC": "3"}
    first = start_worker(worker_id="first", own_group=True, env=fast)
    with gateway.client() as client:
        run_id = submit_effect(client, effects, "run", seconds=3.0).json()["run_id"]
        wait_until(lambda: status(client, run_id)["status"] == "RUNNING", timeout=30)
        below = descendants(first.pid)

        os.kill(first.pid, signal.SIGKILL)  # the worker alone, as the OOM killer does

        wait_until(
            lambda: not any(pid_alive(pid) for pid in below),
            timeout=10,
            what="the killed worker's fork server and run processes to go",
        )
        start_worker(worker_id="second", env=fast)
        (ended,) = wait_all_ended(client, [run_id], timeout=60).values()
    assert ended["status"] == "COMPLETED", ended
    assert ended["worker_id"] == "second"
    assert effect_counts(effects) == {"run": 1}


SPAWNING_FLOW = b"""\
version: 1
flow:
  graph: spawn
  defaults: {}
tasks:
  spawn: {callable: "tests.support.tasks:spawn_and_wait"}
"""


def test_a_killed_worker_takes_the_processes_its_tasks_started_with_it(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    worker = start_worker(own_group=True)
    pid_file = tmp_path / "sleep.pid"
    params = json.dumps({"pid_file": str(pid_file), "seconds": 60})
    with gateway.client() as client:
        response = client.post(
            "/runs/yaml",
            files={"workflow": ("flow.yaml", SPAWNING_FLOW)},
            data={"flow_name": "main", "params": params},
        )
        assert response.status_code == 201, response.text
    wait_until(pid_file.exists, timeout=30, what="the task's process")
    grandchild = int(pid_file.read_text())
    assert pid_alive(grandchild)

    os.kill(worker.pid, signal.SIGKILL)

    wait_until(lambda: not pid_alive(grandchild), timeout=10, what="the task's process to go")
