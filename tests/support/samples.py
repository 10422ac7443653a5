"""Sample records for unit tests."""

from __future__ import annotations

from typing import Any

from pyoco_server.domain.records import Job, WorkerRecord, WorkerState
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus

NOW = 100.0
"""The clock of unit tests that pass one."""

RUN_ID = "run-1"

PENDING = RunSnapshot(
    run_id=RUN_ID,
    flow_name="main",
    tag="default",
    tags=("default",),
    status=RunStatus.PENDING,
    params={"x": 1},
    submitted_at=1.0,
    updated_at=1.0,
)
"""A run as the gateway stores it."""

A_JOB = Job(
    run_id=RUN_ID,
    flow_name="main",
    tag="default",
    tags=("default",),
    params={"x": 1},
    submitted_at=1.0,
)
"""The job of `PENDING`."""


def job(run_id: str, **fields: Any) -> Job:
    """A job like `A_JOB` for run `run_id`."""
    values: dict[str, Any] = {
        "flow_name": "main",
        "tag": "default",
        "tags": ("default",),
        "params": {"x": 1},
        "submitted_at": 1.0,
        **fields,
    }
    return Job(run_id=run_id, **values)


def worker_record(
    worker_id: str, state: WorkerState = WorkerState.IDLE, **fields: Any
) -> WorkerRecord:
    """A worker's registry record, last seen a second before `NOW`."""
    values: dict[str, Any] = {
        "instance_id": f"{worker_id}-1",
        "hidden": False,
        "tags": ("default",),
        "concurrency": 1,
        "current_run_ids": (),
        "started_at": NOW - 100,
        "last_seen_at": NOW - 1,
        "updated_at": NOW - 1,
        **fields,
    }
    return WorkerRecord(worker_id=worker_id, state=state, **values)
