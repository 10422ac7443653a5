"""The NATS messages of asyncapi.yaml (besides the run snapshot) as frozen dataclasses."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any


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


class DeadLetterReason(enum.StrEnum):
    """Why a job went to the dead-letter stream."""

    INVALID_JOB = "invalid_job"
    FLOW_NOT_FOUND = "flow_not_found"
    EXECUTION_ERROR = "execution_error"


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
