"""The states a run, an attempt and a task go through, and why a run ended or is stopping.

Kept apart from the snapshot so that the worker's run processes and the gateway can name states
without the snapshot's machinery; `pyoco_server.domain.snapshot` re-exports them.
"""

from __future__ import annotations

import dataclasses
import enum


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
        return self in TERMINAL


TERMINAL: frozenset[str] = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})
"""The statuses a run ends in (members are strings: a status read from JSON is found too)."""


class TaskState(enum.StrEnum):
    """State of one task of a run (openapi.yaml `TaskState`)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class FailureReason(enum.StrEnum):
    """Why a run failed or was cancelled, as stored in `error_reason`."""

    FLOW_NOT_FOUND = "flow_not_found"
    INVALID_WORKFLOW = "invalid_workflow"
    CALLABLE_NOT_ALLOWED = "callable_not_allowed"
    CODE_UNAVAILABLE = "code_unavailable"
    EXECUTION_ERROR = "execution_error"
    CRASHED = "crashed"
    TIMEOUT = "timeout"
    MAX_DELIVERIES_EXCEEDED = "max_deliveries_exceeded"
    LOST = "lost"
    """Its job is gone from the work stream while the run had not ended (services.reaper)."""
    CANCELLED = "cancelled"

    @property
    def retryable(self) -> bool:
        """True for failures a retry policy may answer with another attempt."""
        return self in _RETRYABLE


_RETRYABLE = frozenset(
    {FailureReason.EXECUTION_ERROR, FailureReason.CRASHED, FailureReason.TIMEOUT}
)


class AttemptStatus(enum.StrEnum):
    """How one attempt at a run went (openapi.yaml `AttemptRecord.status`)."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    LOST = "LOST"


class StopReason(enum.StrEnum):
    """Why a run is being stopped (openapi.yaml `RunStopping.reason`)."""

    CANCEL = "cancel"
    TIMEOUT = "timeout"


@dataclasses.dataclass(frozen=True, slots=True)
class RunStopping:
    """Why and by when a CANCELLING run is being stopped (openapi.yaml `RunStopping`)."""

    reason: StopReason
    since: float
    deadline_at: float | None = None
    """When the worker kills the run's process if it has not stopped (set by the worker)."""
