"""The run snapshot: the latest state of a run, stored under its id in the `pyoco_runs` bucket.

Snapshots are immutable values; every change returns a new one. The gateway creates the PENDING
snapshot; the worker owning the current delivery attempt writes every later one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pyoco_server.domain.copies import replacer
from pyoco_server.domain.records import CodeVersion, Job, RetryPolicy
from pyoco_server.domain.states import (
    AttemptStatus,
    FailureReason,
    RunStatus,
    RunStopping,
    StopReason,
    TaskState,
)

__all__ = [
    "AttemptRecord",
    "AttemptStatus",
    "FailureReason",
    "RunSnapshot",
    "RunStatus",
    "RunStopping",
    "StopReason",
    "TaskRecord",
    "TaskState",
    "bounded_record",
    "bounded_text",
]


@dataclasses.dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt at running a run."""

    attempt: int
    worker_id: str
    started_at: float
    status: AttemptStatus = AttemptStatus.RUNNING
    ended_at: float | None = None
    error: str | None = None
    error_reason: str | None = None


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


MAX_ERROR_CHARS = 8 * 1024
"""A run's, an attempt's or a task's error text is cut to about this many characters."""

MAX_TRACEBACK_CHARS = 32 * 1024
"""A task's traceback is cut to about this many characters."""

MAX_ATTEMPTS_KEPT = 20
"""Attempts a snapshot lists: the first one and the latest."""

SHRUNK_ERROR_CHARS = 1024
SHRUNK_ATTEMPTS_KEPT = 3
"""What is left of errors and attempts when a snapshot must be shrunk to fit NATS at all."""


def bounded_text(text: str | None, limit: int) -> str | None:
    """`text` cut to about `limit` characters, its start and end kept (where errors say most)."""
    if text is None or len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n[... {cut} characters cut ...]\n{text[-tail:]}"


def bounded_record(record: TaskRecord) -> TaskRecord:
    """The record with its error and traceback cut to their limits."""
    error = bounded_text(record.error, MAX_ERROR_CHARS)
    traceback = bounded_text(record.traceback, MAX_TRACEBACK_CHARS)
    if error is record.error and traceback is record.traceback:
        return record
    return dataclasses.replace(record, error=error, traceback=traceback)


def _kept_attempts(attempts: tuple[AttemptRecord, ...], keep: int) -> tuple[AttemptRecord, ...]:
    """The first attempt and the latest ones, `keep` in all."""
    if len(attempts) <= keep:
        return attempts
    return (attempts[0], *attempts[len(attempts) - keep + 1 :])


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
    timeout_sec: float | None = None
    retry: RetryPolicy | None = None
    attempts: tuple[AttemptRecord, ...] = ()
    next_attempt_at: float | None = None
    cancel_requested_at: float | None = None
    cancel_requested_by: str | None = None
    cancel_reason: str | None = None
    job_seq: int | None = None
    """The work-stream sequence of the run's job (set when queued, and at every claim)."""
    code: tuple[CodeVersion, ...] = ()
    rerun_of: str | None = None
    """For a re-run, the run it repeats."""
    stopping: RunStopping | None = None
    """Set when the run becomes CANCELLING: why (cancel or timeout) and by when."""

    @property
    def terminal(self) -> bool:
        """True once the run is COMPLETED, FAILED or CANCELLED."""
        return self.status.terminal

    def _evolve(self, **changes: Any) -> RunSnapshot:
        """A copy with `changes` (`dataclasses.replace`, made cheaper: domain/copies.py)."""
        return _evolve_snapshot(self, **changes)

    @classmethod
    def pending(cls, job: Job, job_seq: int | None = None) -> RunSnapshot:
        """The first snapshot of a run, built from its job (queued as message `job_seq`).

        The gateway stores it once the job is queued; a worker that gets the job before that
        stores it itself.
        """
        return cls(
            run_id=job.run_id,
            flow_name=job.flow_name,
            tag=job.tag,
            tags=job.tags,
            status=RunStatus.PENDING,
            params=job.params,
            submitted_at=job.submitted_at,
            updated_at=job.submitted_at,
            heartbeat_at=job.submitted_at,
            tenant_id=job.tenant_id,
            api_key_id=job.api_key_id,
            workflow_yaml_sha256=job.workflow_yaml_sha256,
            workflow_yaml_bytes=job.workflow_yaml_bytes,
            timeout_sec=job.timeout_sec,
            retry=job.retry,
            code=job.code,
            job_seq=job_seq,
            rerun_of=job.rerun_of,
        )

    def claimed(
        self,
        worker_id: str,
        attempt: int,
        now: float,
        *,
        code: tuple[CodeVersion, ...] | None = None,
        job_seq: int | None = None,
    ) -> RunSnapshot:
        """The snapshot a worker writes when it starts delivery `attempt` of the run.

        An earlier attempt still marked RUNNING lost its worker: it is closed as LOST. A pending
        cancel (CANCELLING) is kept, for the worker to honour at once. `code`, when given, is
        the code the worker runs it with instead of the code it was bound to.
        """
        attempts = tuple(
            _evolve_attempt(old, status=AttemptStatus.LOST, ended_at=now)
            if old.status is AttemptStatus.RUNNING
            else old
            for old in self.attempts
        )
        cancelling = self.status is RunStatus.CANCELLING
        return self._evolve(
            status=RunStatus.CANCELLING if cancelling else RunStatus.RUNNING,
            worker_id=worker_id,
            attempt=attempt,
            start_time=now,
            end_time=None,
            heartbeat_at=now,
            updated_at=now,
            error=None,
            error_reason=None,
            next_attempt_at=None,
            attempts=_kept_attempts(
                (*attempts, AttemptRecord(attempt, worker_id, now)), MAX_ATTEMPTS_KEPT
            ),
            code=self.code if code is None else code,
            job_seq=self.job_seq if job_seq is None else job_seq,
        )

    def heartbeat(self, now: float) -> RunSnapshot:
        """The snapshot with a fresh `heartbeat_at`."""
        return self._evolve(heartbeat_at=now, updated_at=now)

    def _close_attempt(
        self, status: AttemptStatus, now: float, error: str | None, reason: str | None
    ) -> tuple[AttemptRecord, ...]:
        error = bounded_text(error, MAX_ERROR_CHARS)
        return tuple(
            _evolve_attempt(record, status=status, ended_at=now, error=error, error_reason=reason)
            if record.attempt == self.attempt and record.status is AttemptStatus.RUNNING
            else record
            for record in self.attempts
        )

    def progressed(
        self,
        tasks: Mapping[str, TaskState],
        records: Mapping[str, TaskRecord],
        now: float,
    ) -> RunSnapshot:
        """The snapshot with new task states and records, still running."""
        return self._evolve(
            tasks=dict(tasks), task_records=dict(records), heartbeat_at=now, updated_at=now
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
        return self._evolve(
            status=status,
            end_time=now,
            heartbeat_at=now,
            updated_at=now,
            error=bounded_text(error, MAX_ERROR_CHARS),
            error_reason=reason,
            next_attempt_at=None,
            attempts=self._close_attempt(AttemptStatus(status.value), now, error, reason),
        )

    def retry_scheduled(
        self, now: float, delay: float, *, error: str | None, reason: str | None
    ) -> RunSnapshot:
        """Back to PENDING after a failed attempt, with the next one due in `delay` seconds."""
        return self._evolve(
            status=RunStatus.PENDING,
            heartbeat_at=now,
            updated_at=now,
            next_attempt_at=now + delay,
            attempts=self._close_attempt(AttemptStatus.FAILED, now, error, reason),
            stopping=None,
        )

    def requeued(self, now: float) -> RunSnapshot:
        """An ended run queued again (a dead letter redriven): PENDING, attempts kept."""
        return self._evolve(
            status=RunStatus.PENDING,
            start_time=None,
            end_time=None,
            heartbeat_at=now,
            updated_at=now,
            error=None,
            error_reason=None,
            next_attempt_at=None,
            cancel_requested_at=None,
            cancel_requested_by=None,
            cancel_reason=None,
            stopping=None,
        )

    def cancel_requested(self, now: float, by: str | None, reason: str | None) -> RunSnapshot:
        """A cancel request: a PENDING run is CANCELLED, a running one CANCELLING.

        A running run's `stopping` says `cancel` since `now` (its worker adds the deadline). A
        run already being stopped for its timeout keeps stopping so (it ends FAILED `timeout`);
        the request is recorded, so that no retry follows. A run that already ended is returned
        unchanged; a repeated request keeps the first request's time, requester and reason.
        """
        if self.terminal or self.cancel_requested_at is not None:
            return self
        marked = self._evolve(
            cancel_requested_at=now,
            cancel_requested_by=by,
            cancel_reason=reason,
            updated_at=now,
        )
        if self.status is RunStatus.PENDING:
            return marked.finished(RunStatus.CANCELLED, now, reason=FailureReason.CANCELLED)
        if self.status is RunStatus.CANCELLING:
            return marked
        return marked._evolve(
            status=RunStatus.CANCELLING, stopping=RunStopping(StopReason.CANCEL, now)
        )

    def being_stopped(
        self, reason: StopReason, now: float, deadline_at: float | None
    ) -> RunSnapshot:
        """CANCELLING, saying why and by when: the worker's write once it is stopping the run.

        A cancel's stop (the gateway wrote CANCELLING) keeps its reason and time and gains the
        deadline; a timeout's starts now. An ended run, or a stop that already has its
        deadline, is returned unchanged.
        """
        if self.terminal:
            return self
        stopping = self.stopping
        if self.status is not RunStatus.CANCELLING or stopping is None:
            asked = self.cancel_requested_at if reason is StopReason.CANCEL else None
            stopping = RunStopping(reason, now if asked is None else asked, deadline_at)
        elif stopping.deadline_at is None:
            stopping = dataclasses.replace(stopping, deadline_at=deadline_at)
        else:
            return self
        return self._evolve(status=RunStatus.CANCELLING, stopping=stopping, updated_at=now)

    def queued_as(self, job_seq: int) -> RunSnapshot:
        """The snapshot of a run whose job is message `job_seq` of the work stream."""
        return self._evolve(job_seq=job_seq)

    def without_records(self) -> RunSnapshot:
        """The snapshot with its task records dropped and marked truncated."""
        return self._evolve(task_records={}, task_records_truncated=True)

    def shrunk(self) -> RunSnapshot:
        """The last resort of a snapshot too large for NATS.

        No task records, short errors, and only the first and the latest attempts.
        """
        attempts = tuple(
            dataclasses.replace(attempt, error=bounded_text(attempt.error, SHRUNK_ERROR_CHARS))
            for attempt in _kept_attempts(self.attempts, SHRUNK_ATTEMPTS_KEPT)
        )
        return self._evolve(
            task_records={},
            task_records_truncated=True,
            error=bounded_text(self.error, SHRUNK_ERROR_CHARS),
            cancel_reason=bounded_text(self.cancel_reason, SHRUNK_ERROR_CHARS),
            attempts=attempts,
        )


_evolve_snapshot = replacer(RunSnapshot)
_evolve_attempt = replacer(AttemptRecord)
