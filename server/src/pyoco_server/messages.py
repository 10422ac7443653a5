"""The NATS messages of asyncapi.yaml (besides the run snapshot) as frozen dataclasses."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to run a failed run again (openapi.yaml `RetryPolicy`)."""

    max_attempts: int
    backoff_sec: float = 1.0
    backoff_multiplier: float = 2.0
    max_backoff_sec: float = 300.0

    def delay_after(self, failed_attempts: int) -> float:
        """Seconds to wait before the next attempt, after `failed_attempts` failures (>= 1)."""
        delay = self.backoff_sec * self.backoff_multiplier ** max(0, failed_attempts - 1)
        return float(min(delay, self.max_backoff_sec))


@dataclasses.dataclass(frozen=True, slots=True)
class Job:
    """A run to execute, queued on `pyoco.work.<tag>` (asyncapi.yaml `Job`)."""

    run_id: str
    flow_name: str
    tag: str
    tags: tuple[str, ...]
    params: Mapping[str, Any]
    submitted_at: float
    tenant_id: str | None = None
    api_key_id: str | None = None
    workflow_yaml: str | None = None
    workflow_yaml_sha256: str | None = None
    workflow_yaml_bytes: int | None = None
    snapshot_revision: int | None = None
    attempt_base: int = 0
    timeout_sec: float | None = None
    retry: RetryPolicy | None = None


class DeadLetterReason(enum.StrEnum):
    """Why a job went to the dead-letter stream."""

    INVALID_JOB = "invalid_job"
    FLOW_NOT_FOUND = "flow_not_found"
    EXECUTION_ERROR = "execution_error"
    MAX_DELIVERIES_EXCEEDED = "max_deliveries_exceeded"
    TIMEOUT = "timeout"


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetter:
    """A job that could not be run, on `pyoco.dlq.<tag>` (asyncapi.yaml `DeadLetter`)."""

    reason: DeadLetterReason
    error: str
    timestamp: float
    tag: str
    subject: str | None = None
    run_id: str | None = None
    flow_name: str | None = None
    worker_id: str | None = None
    num_delivered: int | None = None
    job: Job | None = None
    payload: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CancelNotice:
    """A run was asked to stop, on `pyoco.cancel.<run_id>` (asyncapi.yaml `CancelNotice`)."""

    run_id: str
    requested_at: float
    requested_by: str | None = None
    reason: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class MaxDeliveriesAdvisory:
    """JetStream's advisory that a job's deliveries ran out."""

    stream: str
    consumer: str
    stream_seq: int
    deliveries: int
