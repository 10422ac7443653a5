"""Process pools under test: started pools, jobs of test tasks, the pids their tasks write.

Every test starts its own pool (the fork server is shared by the test process) and closes it on
the way out; every wait is on a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.records import Job
from pyoco_server.domain.snapshot import RunStatus
from pyoco_server.domain.trust import TaskPolicy
from pyoco_worker.child import ChildConfig
from pyoco_worker.execution import Outcome, RunControl
from pyoco_worker.pool import ProcessPool
from tests.support.flows import flow_yaml

T = TypeVar("T")
GRACE = 0.5
"""Cancel grace period of the pools under test."""
TEST_TASKS = TaskPolicy(modules=("tests.support.tasks",))
"""The pools' task policy: the demo tasks and the test tasks, as an operator would list them."""


def run(coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run `coroutine` on a new loop, failing after `timeout` seconds."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def job(*tasks: str, tenant: str | None = None, **params: object) -> Job:
    """A job running `tasks` (demo or test tasks, see flows.py) in sequence, with `params`."""
    return Job(
        tenant_id=tenant,
        run_id=f"run-{uuid.uuid4().hex[:8]}",
        flow_name="main",
        tag="default",
        tags=("default",),
        params=params,
        submitted_at=time.time(),
        workflow_yaml=flow_yaml(*tasks).decode(),
    )


@contextlib.asynccontextmanager
async def started_pool(
    size: int = 1, *, flush_interval: float = 0.05, config: ChildConfig | None = None
) -> AsyncIterator[ProcessPool]:
    """A started pool of `size` run processes (forkserver), closed on the way out."""
    pool = ProcessPool(
        size,
        config=config or ChildConfig(policy=TEST_TASKS),
        flush_interval=flush_interval,
        cancel_grace_sec=GRACE,
        start_method="forkserver",
    )
    try:
        await pool.start()
        yield pool
    finally:
        await pool.close()


async def eventually(predicate: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
    """Poll `predicate` on the loop until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")
        await asyncio.sleep(0.01)
    return value


def pid_in(path: Path) -> int | None:
    """The pid `sleep_for` wrote to `path`, once it is there."""
    text = path.read_text() if path.exists() else ""
    return int(text) if text else None


async def started_task(pid_file: Path) -> int:
    """The pid `sleep_for` writes to `pid_file` once its task has started."""
    pid = await eventually(lambda: pid_in(pid_file), 30, "the task to start")
    assert pid is not None
    return pid


async def execute(pool: ProcessPool, for_job: Job, control: RunControl | None = None) -> Outcome:
    """Run `for_job` on `pool`, ignoring its progress."""
    return await pool.execute(for_job, lambda progress: None, control or RunControl())


async def task_pid(pool: ProcessPool, tmp_path: Path, tenant: str | None = None) -> int:
    """The pid of the run process that runs the next job (of `tenant`) of `pool` (pool of one)."""
    pid_file = tmp_path / f"{uuid.uuid4().hex}.pid"
    outcome = await execute(
        pool, job("sleep_for", seconds=0, pid_file=str(pid_file), tenant=tenant)
    )
    assert outcome.status is RunStatus.COMPLETED, outcome.error
    pid = pid_in(pid_file)
    assert pid is not None
    return pid
