"""The records of asyncapi.yaml besides the run snapshot (snapshot.py), as frozen dataclasses.

Jobs, dead letters, cancel notices, advisories and wheel history events travel on subjects;
worker, API-key, idempotency and wheel index records are key-value entries. `codec` maps each to
and from its payload.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

from pyoco_server.domain.copies import pickled_by_slots


@pickled_by_slots
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


@pickled_by_slots
@dataclasses.dataclass(frozen=True, slots=True)
class CodeVersion:
    """A registry wheel a run is bound to (openapi.yaml `CodeVersion`)."""

    distribution: str
    version: str
    sha256: str
    wheel: str

    @property
    def requirement(self) -> str:
        """`distribution==version`."""
        return f"{self.distribution}=={self.version}"


@pickled_by_slots
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
    code: tuple[CodeVersion, ...] = ()
    """The wheels the run is bound to (installed before it starts)."""
    task_modules: tuple[str, ...] | None = None
    """When the submitter's key narrows them: the only task modules its runs may use."""
    rerun_of: str | None = None
    """For a re-run, the run it repeats."""


class DeadLetterReason(enum.StrEnum):
    """Why a job went to the dead-letter stream."""

    INVALID_JOB = "invalid_job"
    FLOW_NOT_FOUND = "flow_not_found"
    CALLABLE_NOT_ALLOWED = "callable_not_allowed"
    CODE_UNAVAILABLE = "code_unavailable"
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


@dataclasses.dataclass(frozen=True, slots=True)
class SkippedWheel:
    """A wheel a worker cannot install, and why (openapi.yaml `SkippedWheel`)."""

    wheel: str
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class WheelState:
    """A worker's wheel sync, as it reports it in its record (openapi.yaml `WheelState`)."""

    enabled: bool
    installed: tuple[CodeVersion, ...] = ()
    skipped: tuple[SkippedWheel, ...] = ()
    last_error: str | None = None
    last_synced_at: float | None = None


class WorkerState(enum.StrEnum):
    """State of a worker (openapi.yaml `WorkerState`); workers never store DISCONNECTED."""

    RUNNING = "RUNNING"
    IDLE = "IDLE"
    STOPPED_GRACEFUL = "STOPPED_GRACEFUL"
    DISCONNECTED = "DISCONNECTED"


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerRecord:
    """A worker's registry record (openapi.yaml `WorkerRecord`)."""

    worker_id: str
    instance_id: str
    state: WorkerState
    hidden: bool
    tags: tuple[str, ...]
    concurrency: int
    current_run_ids: tuple[str, ...]
    started_at: float
    last_seen_at: float
    updated_at: float
    stopped_at: float | None = None
    stop_reason: str | None = None
    hostname: str | None = None
    pid: int | None = None
    version: str | None = None
    runs_completed: int = 0
    runs_failed: int = 0
    last_run_id: str | None = None
    last_run_status: str | None = None
    last_run_finished_at: float | None = None
    wheels: WheelState | None = None

    def shown_state(self, now: float, disconnect_timeout: float) -> WorkerState:
        """The state to show: DISCONNECTED when a live-looking record went stale."""
        if self.state in (WorkerState.STOPPED_GRACEFUL, WorkerState.DISCONNECTED):
            return self.state
        if now - self.last_seen_at > disconnect_timeout:
            return WorkerState.DISCONNECTED
        return self.state

    def shown(self, now: float, disconnect_timeout: float) -> WorkerRecord:
        """The record with its shown state."""
        state = self.shown_state(now, disconnect_timeout)
        return self if state is self.state else dataclasses.replace(self, state=state)


API_KEY_HASH_ALG = "hmac-sha256"
"""How API key records are hashed (see `keys`)."""


class Role(enum.StrEnum):
    """What a key may do.

    `user` keys work with their tenant's runs; `admin` keys also with workers, dead letters and
    metrics (the operations marked `x-pyoco-role: admin` in openapi.yaml).
    """

    ADMIN = "admin"
    USER = "user"


@dataclasses.dataclass(frozen=True, slots=True)
class ApiKey:
    """The stored record of an API key (asyncapi.yaml, schema `ApiKey`); never the secret."""

    key_id: str
    tenant_id: str
    role: Role
    salt: str
    hash: str
    created_at: float
    hash_alg: str = API_KEY_HASH_ALG
    revoked_at: float | None = None
    description: str | None = None
    task_modules: tuple[str, ...] | None = None
    """When set, the runs of this key may use task callables of these modules only."""
    submit_rate_per_sec: float | None = None
    """When set, the key's own submit rate (its own token bucket), instead of its tenant's."""
    submit_burst: int | None = None
    """With `submit_rate_per_sec`, the submits the key may make at once (default: the gateway's)."""

    @property
    def revoked(self) -> bool:
        """True once the key has been revoked."""
        return self.revoked_at is not None


@dataclasses.dataclass(frozen=True, slots=True)
class LogRecord:
    """A line a task printed or a record it logged, on `pyoco.logs.<run_id>` (asyncapi.yaml)."""

    run_id: str
    attempt: int
    stream: LogStream
    message: str
    ts: float
    task: str | None = None
    level: str | None = None
    logger: str | None = None


class LogStream(enum.StrEnum):
    """Where a log record came from (openapi.yaml `LogStream`)."""

    STDOUT = "stdout"
    STDERR = "stderr"
    LOG = "log"
    SYSTEM = "system"


@dataclasses.dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The run an Idempotency-Key created (asyncapi.yaml `IdempotencyRecord`)."""

    run_id: str
    request_sha256: str
    created_at: float
    response: Mapping[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class WheelVersion:
    """One uploaded version of a distribution, in its wheel index record."""

    version: str
    wheel: str
    sha256: str
    size_bytes: int
    tags: tuple[str, ...]
    modules: tuple[str, ...]
    """The top-level modules and packages the wheel provides."""
    uploaded_at: float
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    uploaded_by: str | None = None
    deleted_at: float | None = None
    """Set when deleted: new runs are no longer bound to it; its file stays while runs need it."""

    @property
    def deleted(self) -> bool:
        """True once the version was deleted."""
        return self.deleted_at is not None


@dataclasses.dataclass(frozen=True, slots=True)
class WheelIndexRecord:
    """Every version of one distribution in the registry (the `pyoco_wheel_index` bucket).

    Uploads and deletions are compare-and-set writes of this record, which is what makes "only a
    strictly higher version" atomic; workers and gateways follow the bucket to learn of changes.
    """

    distribution: str
    versions: tuple[WheelVersion, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class WheelHistoryEvent:
    """An upload or deletion in the registry, on the wheel history stream."""

    event_id: str
    occurred_at: float
    action: str
    wheel_name: str
    tags: tuple[str, ...]
    distribution: str | None = None
    version: str | None = None
    size_bytes: int | None = None
    sha256_hex: str | None = None
    replace: bool | None = None
    actor: Mapping[str, Any] | None = None
    source: Mapping[str, Any] | None = None
