"""The run snapshot: the latest state of a run, stored under its id in the `pyoco_runs` bucket.

Snapshots are immutable values; every change returns a new one. The gateway creates the PENDING
snapshot; the worker owning the current delivery attempt writes every later one.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any


class RunStatus(enum.StrEnum):
    """Status of a run (openapi.yaml `RunStatus`)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    CANCELLING = "CANCELLING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        """True for COMPLETED, FAILED and CANCELLED."""
        return self in _TERMINAL


_TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})


class TaskState(enum.StrEnum):
    """State of one task of a run (openapi.yaml `TaskState`)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class FailureReason(enum.StrEnum):
    """Why a run failed, as stored in `error_reason` (and the DLQ `reason`)."""

    FLOW_NOT_FOUND = "flow_not_found"
    INVALID_WORKFLOW = "invalid_workflow"
    EXECUTION_ERROR = "execution_error"


@dataclasses.dataclass(frozen=True, slots=True)
class TaskRecord:
    """What happened to one task."""

    state: TaskState
    started_at: float | None = None
    ended_at: float | None = None
    duration_ms: float | None = None
    error: str | None = None
    traceback: str | None = None
    inputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    output: Any = None
    output_converted: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class RunSnapshot:
    """The latest state of a run (openapi.yaml `RunSnapshot`)."""

    run_id: str
    flow_name: str
    tag: str
    tags: tuple[str, ...]
    status: RunStatus
    params: Mapping[str, Any]
    submitted_at: float
    updated_at: float
    tasks: Mapping[str, TaskState] = dataclasses.field(default_factory=dict)
    task_records: Mapping[str, TaskRecord] = dataclasses.field(default_factory=dict)
    task_records_truncated: bool = False
    tenant_id: str | None = None
    api_key_id: str | None = None
    worker_id: str | None = None
    attempt: int = 0
    start_time: float | None = None
    end_time: float | None = None
    heartbeat_at: float | None = None
    error: str | None = None
    error_reason: str | None = None
    workflow_yaml_sha256: str | None = None
    workflow_yaml_bytes: int | None = None

    @property
    def terminal(self) -> bool:
        """True once the run is COMPLETED, FAILED or CANCELLED."""
        return self.status.terminal

    def claimed(self, worker_id: str, attempt: int, now: float) -> RunSnapshot:
        """The snapshot a worker writes when it starts delivery `attempt` of the run."""
        return dataclasses.replace(
            self,
            status=RunStatus.RUNNING,
            worker_id=worker_id,
            attempt=attempt,
            start_time=now,
            end_time=None,
            heartbeat_at=now,
            updated_at=now,
            error=None,
            error_reason=None,
        )

    def progressed(
        self,
        tasks: Mapping[str, TaskState],
        records: Mapping[str, TaskRecord],
        now: float,
    ) -> RunSnapshot:
        """The snapshot with new task states and records, still running."""
        return dataclasses.replace(
            self, tasks=dict(tasks), task_records=dict(records), heartbeat_at=now, updated_at=now
        )

    def finished(
        self,
        status: RunStatus,
        now: float,
        *,
        error: str | None = None,
        reason: str | None = None,
    ) -> RunSnapshot:
        """The terminal snapshot."""
        if not status.terminal:
            raise ValueError(f"{status} is not a terminal status")
        return dataclasses.replace(
            self,
            status=status,
            end_time=now,
            heartbeat_at=now,
            updated_at=now,
            error=error,
            error_reason=reason,
        )

    def without_records(self) -> RunSnapshot:
        """The snapshot with its task records dropped and marked truncated."""
        return dataclasses.replace(self, task_records={}, task_records_truncated=True)
