"""What a run leaves behind does not outlive it (pyoco_worker/leftovers.py, sandbox.Baseline).

A real gateway and worker (one run process) run a task that starts a `sleep` and returns
without waiting for it, as a plain child or as a daemon that left the run process's session
(its parent shell gone). By the time the run's end is stored, the `sleep` is gone, the run's
log says so, and the same run process takes the next run. Before, the `sleep` ran on after its
run, and after its worker had stopped. A task that moves its process to another directory and
changes its environment leaves the next run in the process where it would have been; before,
every later run of the process worked in `/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory, pid_alive
from tests.support.runs import status, submit
from tests.support.waiting import wait_terminal


def left_running(client: httpx.Client, daemon: bool) -> tuple[dict[str, Any], str]:
    """Run `leave_running`; its output, once the run's end is stored, and the run's id."""
    workflow = flow_yaml("leave_running", defaults=f"{{daemon: {str(daemon).lower()}}}")
    run_id = submit(client, workflow)
    snapshot = wait_terminal(client, run_id)
    assert snapshot["status"] == "COMPLETED", snapshot
    output: dict[str, Any] = client.get(f"/runs/{run_id}", params={"include": "records"}).json()
    return output["task_records"]["leave_running"]["output"], run_id


@pytest.mark.parametrize("daemon", [False, True], ids=["child", "daemon"])
def test_a_process_a_task_leaves_running_is_stopped_as_its_run_ends(
    gateway: Gateway, start_worker: WorkerFactory, daemon: bool
) -> None:
    start_worker(args=("--concurrency", "1"))
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        first, run_id = left_running(client, daemon)
        assert not pid_alive(first["left"]), "the run's sleep outlived its run"
        lines = client.get(f"/runs/{run_id}/logs").json()["items"]
        second, _ = left_running(client, daemon)
    assert not pid_alive(second["left"])
    warnings = [line for line in lines if line["level"] == "WARNING"]
    assert [line["message"] for line in warnings] == [
        "the run left 1 process(es) running; they were killed as it ended (a task must wait "
        "for the processes it starts)"
    ]
    assert second["run_process"] == first["run_process"], "the run process was not kept"


def test_a_process_a_task_waits_for_is_not_counted(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker()
    out_file = tmp_path / "fork.txt"
    workflow = flow_yaml("print_in_fork", defaults=f"{{x: 3, out_file: '{out_file}'}}")
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        run_id = submit(client, workflow)
        assert wait_terminal(client, run_id)["status"] == "COMPLETED"
        lines = client.get(f"/runs/{run_id}/logs").json()["items"]
    assert [line["message"] for line in lines] == ["after the fork 3"]


def test_the_next_run_starts_where_the_process_did_not_where_a_task_moved_it(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker(args=("--concurrency", "1"))
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        outputs = []
        for workflow in (
            flow_yaml("wander", defaults=f"{{to: '{tmp_path}'}}"),
            flow_yaml("where"),
        ):
            run_id = submit(client, workflow)
            assert wait_terminal(client, run_id)["status"] == "COMPLETED"
            records = status(client, run_id)["task_records"]
            assert isinstance(records, dict)
            outputs.append(next(iter(records.values()))["output"])
    started_in, (now_in, wandered) = outputs
    assert now_in == started_in != str(tmp_path)
    assert wandered is None
