"""PYOCO_RUN_MEMORY_MAX_BYTES: a run that maps more memory than it may fails, and only it.

A real gateway and worker. With a limit of 256 MiB, a task that allocates 1 GiB fails with
`MemoryError`, the run after it on the same worker completes, and task code cannot lift the
limit. Without the limit the same allocation succeeds: the limit, not the machine, refused it.
Before, a run could take all the machine's memory, the worker's and other runs' included.
"""

from __future__ import annotations

import httpx

from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import status, submit
from tests.support.waiting import wait_terminal

LIMIT = 256 * 1024**2
MIB = 1024**2


def allocated(client: httpx.Client, size: int) -> dict[str, object]:
    """The terminal snapshot of a run allocating `size` bytes."""
    return wait_terminal(
        client, submit(client, flow_yaml("allocate", defaults=f"{{size: {size}}}"))
    )


def test_a_run_over_the_limit_fails_and_the_next_one_runs(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker(args=("--concurrency", "1"), env={"PYOCO_RUN_MEMORY_MAX_BYTES": str(LIMIT)})
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        over = allocated(client, 4 * LIMIT)
        within = allocated(client, 16 * MIB)
        run_id = submit(client, flow_yaml("raise_memory_limit"))
        wait_terminal(client, run_id)
        lifted = status(client, run_id)
    assert over["status"] == "FAILED", over
    assert over["error_reason"] == "execution_error", over
    assert str(over["error"]).startswith("MemoryError"), over
    assert f"a run may map {LIMIT} bytes of data memory: PYOCO_RUN_MEMORY_MAX_BYTES" in str(
        over["error"]
    ), over
    assert within["status"] == "COMPLETED", within
    records = lifted["task_records"]
    assert isinstance(records, dict)
    assert str(records["raise_memory_limit"]["output"]).startswith("refused"), records


def test_without_the_limit_the_same_run_completes(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker(args=("--concurrency", "1"))
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        snapshot = allocated(client, 4 * LIMIT)
    assert snapshot["status"] == "COMPLETED", snapshot
