"""Sample records for unit tests."""

from __future__ import annotations

from typing import Any

from pyoco_server.domain.records import Job, RetryPolicy, WorkerRecord, WorkerState
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


FULL_JOB = Job(
    run_id="run-1",
    flow_name="main",
    tag="gpu",
    tags=("gpu", "large"),
    params={"x": 1, "nested": {"y": [1, 2]}},
    submitted_at=10.0,
    tenant_id="tenant-a",
    api_key_id="key-1",
    workflow_yaml="flow:\n  graph: a\n",
    workflow_yaml_sha256="ab" * 32,
    workflow_yaml_bytes=17,
    snapshot_revision=7,
    attempt_base=0,
    timeout_sec=30.0,
    retry=RetryPolicy(
        max_attempts=3, backoff_sec=0.5, backoff_multiplier=3.0, max_backoff_sec=10.0
    ),
)
"""A job with every optional field set (a retry policy of three attempts included)."""


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
