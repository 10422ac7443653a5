"""Handling one delivery of a job: decode, claim, execute, record the end, acknowledge.

The job is acknowledged only after its terminal snapshot is stored, so a crash anywhere before
that leads to a redelivery, never to a lost run. Dispositions:

==============================  ====================  ===============  =======================
what happened                   snapshot              queue            dead letter
==============================  ====================  ===============  =======================
not a valid job                 untouched             term             invalid_job
run unknown (failed submit)     none                  ack              -
run already ended               untouched             ack              -
cancel asked before the start   CANCELLED             ack              -
stopping when its worker died   CANCELLED / FAILED    ack              (as below)
newer attempt owns the run      untouched             (nothing)        -
completed / cancelled           COMPLETED/CANCELLED   ack              -
failed, retry policy allows     PENDING, retry due    nak(backoff)     -
flow not found / invalid        FAILED                ack              flow_not_found
task raised / process crashed   FAILED                ack              execution_error
over its timeout                CANCELLING, FAILED    ack              timeout
worker shutting down            RUNNING (as is)       nak (at once)    -
NATS unreachable                as far as it got      nak(2 s)         -
==============================  ====================  ===============  =======================

NATS away before the start (a cluster electing) is waited for, up to AckWait / 2. A job
delivered again while it runs here waits for that attempt, then is handled as above.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pyoco_server.aio import backoff, through_flaps
from pyoco_server.domain.codec import JOB
from pyoco_server.domain.errors import (
    BackendUnavailable,
    DecodeError,
    RevisionConflict,
    RunAbandoned,
    StaleAttempt,
)
from pyoco_server.domain.records import DeadLetter, DeadLetterReason, Job
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import AttemptStatus, FailureReason, RunSnapshot, RunStatus
from pyoco_server.domain.subjects import Subjects
from pyoco_server.ports import DeadLetterSink, Delivery, RunStore, StoredSnapshot
from pyoco_server.services.exhaustion import MaxDeliveriesHandler
from pyoco_worker.execution import (
    NO_CODE,
    CodePreparer,
    CodeUnavailable,
    Executor,
    LogSink,
    NoObserver,
    Outcome,
    RunControl,
    RunObserver,
    StopReason,
    not_started,
)
from pyoco_worker.logs import NO_LOGS, LogPublisher
from pyoco_worker.outages import WaitReady, never_ready, read_after_conflict, through_outage
from pyoco_worker.writer import RunWriter

log = logging.getLogger(__name__)

T = TypeVar("T")

_RETRY_DELAY_SEC = 2.0
_PAYLOAD_EXCERPT = 4096
_DEAD_LETTER_REASONS = {
    FailureReason.FLOW_NOT_FOUND: DeadLetterReason.FLOW_NOT_FOUND,
    FailureReason.INVALID_WORKFLOW: DeadLetterReason.FLOW_NOT_FOUND,
    FailureReason.CALLABLE_NOT_ALLOWED: DeadLetterReason.CALLABLE_NOT_ALLOWED,
    FailureReason.CODE_UNAVAILABLE: DeadLetterReason.CODE_UNAVAILABLE,
    FailureReason.EXECUTION_ERROR: DeadLetterReason.EXECUTION_ERROR,
    FailureReason.CRASHED: DeadLetterReason.EXECUTION_ERROR,
    FailureReason.TIMEOUT: DeadLetterReason.TIMEOUT,
}


class ActiveRun:
    """A run this worker is executing: what the heartbeat and cancel notices reach."""

    def __init__(self, writer: RunWriter, control: RunControl) -> None:
        self.writer = writer
        self.control = control
        self.finished = asyncio.Event()


class JobRunner:
    """Runs the jobs delivered to one worker."""

    def __init__(
        self,
        *,
        store: RunStore,
        dead_letters: DeadLetterSink,
        executor: Executor,
        settings: Settings,
        worker_id: str,
        observer: RunObserver | None = None,
        code: CodePreparer | None = None,
        exhaustion: MaxDeliveriesHandler | None = None,
        clock: Callable[[], float] = time.time,
        logs: LogPublisher = NO_LOGS,
        wait_ready: WaitReady = never_ready,
    ) -> None:
        self._store = store
        self._wait_ready = wait_ready  # (timeout) -> True once NATS is back
        self._logs = logs  # stored before the run's end is written (logs.py)
        self._code = code
        self._exhaustion = exhaustion
        self._observer = observer or NoObserver()
        self._dead_letters = dead_letters
        self._executor = executor
        self._settings = settings
        self._worker_id = worker_id
        self._clock = clock
        self._subjects = Subjects.from_settings(settings)
        self.active: dict[str, ActiveRun] = {}

    async def handle(self, delivery: Delivery) -> RunStatus | None:
        """Process one delivery to the end; returns the run's final status if it ended here."""
        try:
            return await self._handle(delivery)
        except BackendUnavailable as exc:
            log.warning("job on %s returned for redelivery: %s", delivery.subject, exc)
            # If NATS is gone the nak fails too; the ack wait redelivers the job anyway.
            with contextlib.suppress(BackendUnavailable):
                await delivery.nak(_RETRY_DELAY_SEC)
            return None

    def stop(self, run_id: str, reason: StopReason) -> bool:
        """Ask a run this worker executes to stop; False if it is not running here."""
        active = self.active.get(run_id)
        if active is None:
            return False
        active.control.stop(reason)
        return True

    async def _handle(self, delivery: Delivery) -> RunStatus | None:
        try:
            job = JOB.decode(delivery.data)
        except DecodeError as exc:
            await self._reject_invalid(delivery, exc)
            return None
        active = self.active.get(job.run_id)
        if active is not None:  # its keepalive or end did not get through NATS in time
            log.info("run %s delivered again while it runs here; waiting for it", job.run_id)
            await active.finished.wait()
            return await self._handle(delivery)
        stored = await self._through_outage(lambda: self._current(job, delivery))
        if stored is None:
            log.warning("run %s has no snapshot (it was removed); dropping the job", job.run_id)
            await delivery.ack()
            return None
        if stored.snapshot.terminal:
            log.info("run %s already %s; not running it again", job.run_id, stored.snapshot.status)
            await delivery.ack()
            return None
        if delivery.attempt > self._settings.consumer_max_deliver and self._exhaustion:
            # The extra delivery (Settings.consumer_deliveries): end the run, do not run it.
            await self._exhaustion.exhaust(job, delivery.subject, delivery.attempt - 1)
            await delivery.term()
            return RunStatus.FAILED
        try:
            return await self._attempt(job, delivery, stored)
        except StaleAttempt as exc:
            if exc.ended:
                await delivery.ack()
            else:
                log.warning("run %s: %s; leaving it to its owner", job.run_id, exc.detail)
            return None

    async def _through_outage(self, step: Callable[[], Awaitable[T]]) -> T:
        return await through_outage(
            step, self._wait_ready, self._settings.consumer_ack_wait_sec / 2
        )

    async def _current(self, job: Job, delivery: Delivery) -> StoredSnapshot | None:
        """The run's snapshot; stored from the job when the gateway has not stored it yet.

        The gateway queues a job before it stores the run, so a quick worker may find no
        snapshot: it stores the PENDING one itself (whoever is second finds it there). A job
        from an older gateway carries its snapshot's revision, saving the read. Reading first
        is the faster order even on an idle system: the gateway's write, sent as soon as the
        job's publish is acknowledged, nearly always lands before a worker's would (measured:
        creating first cost an idle run 0.5 ms more, a failed create and a read).
        """
        if delivery.attempt == 1 and job.attempt_base == 0 and job.snapshot_revision:
            return StoredSnapshot(RunSnapshot.pending(job), job.snapshot_revision)
        stored = await self._store.get(job.run_id)
        if stored is not None or job.attempt_base != 0:
            return stored
        pending = RunSnapshot.pending(job, job_seq=delivery.seq)
        try:
            return StoredSnapshot(pending, await self._store.create(pending))
        except RevisionConflict:
            return await read_after_conflict(self._store, job.run_id)

    async def _attempt(self, job: Job, delivery: Delivery, stored: StoredSnapshot) -> RunStatus:
        control = RunControl(job.timeout_sec)
        writer = RunWriter(
            self._store,
            stored,
            worker_id=self._worker_id,
            attempt=job.attempt_base + delivery.attempt,
            flush_interval=self._settings.snapshot_flush_interval_sec,
            on_cancel=lambda: control.stop(StopReason.CANCEL),
            on_stale=lambda _exc: control.stop(StopReason.ABANDONED),
            clock=self._clock,
            settle_within=self._settings.consumer_ack_wait_sec / 2,
        )
        # A worker without wheel sync runs with its own environment: the record says so.
        code = None if self._code is not None else ()
        claimed = await self._through_outage(lambda: writer.claim(code, job_seq=delivery.seq))
        if claimed.status is RunStatus.CANCELLING:  # its last worker died while stopping it
            return await self._end_stopped(job, delivery, writer, claimed)
        # The timeout counts from the claim (start_time), through the wait for a run process
        # and the install of the run's wheels.
        control.start_clock(self._clock() - (claimed.start_time or self._clock()))
        control.on_stopping(writer.stopping)
        return await self._execute(job, delivery, writer, control)

    async def _end_stopped(
        self, job: Job, delivery: Delivery, writer: RunWriter, claimed: RunSnapshot
    ) -> RunStatus:
        """End a run whose last worker died while stopping it, as that stop would have ended."""
        if claimed.cancel_requested_at is not None:
            return await self._end(delivery, await writer.cancel_unstarted())
        timed_out = Outcome(  # it was being stopped for its timeout
            RunStatus.FAILED,
            claimed.tasks,
            claimed.task_records,
            f"the run exceeded its timeout of {job.timeout_sec or 0:g}s; its worker was lost "
            "while stopping it",
            FailureReason.TIMEOUT,
        )
        return (await self._conclude(job, delivery, writer, timed_out)).status

    async def _execute(
        self, job: Job, delivery: Delivery, writer: RunWriter, control: RunControl
    ) -> RunStatus:
        self.active[job.run_id] = ActiveRun(writer, control)
        self._observer.run_started(job.run_id)
        ended: RunSnapshot | None = None
        try:
            async with self._logs.attempt(job.run_id, writer.snapshot.attempt) as run_log:
                outcome = await self._run_with_code(job, writer, control, run_log)
            if control.reason is StopReason.ABANDONED:
                raise RunAbandoned(f"run {job.run_id} stopped: a newer attempt owns it")
            ended = await self._conclude(job, delivery, writer, outcome)
            return ended.status
        except RunAbandoned as exc:
            await self._hand_back(job, delivery, writer, exc)
            return RunStatus.RUNNING
        finally:
            control.close()
            self.active.pop(job.run_id).finished.set()
            self._observer.run_ended(job.run_id, ended)

    async def _hand_back(
        self, job: Job, delivery: Delivery, writer: RunWriter, exc: RunAbandoned
    ) -> None:
        """Give a stopped run's job back for another attempt, unless another one owns it.

        A nak of a delivery that a newer attempt already holds would deliver the job a third
        time; such a delivery is left alone (its owner acks the job).
        """
        stored = await self._store.get(job.run_id)
        current = stored.snapshot if stored is not None else None
        if current is None or current.terminal or current.attempt > writer.snapshot.attempt:
            log.info("run %s: %s; a newer attempt owns it", job.run_id, exc)
            return
        log.info("run %s: %s; handed back", job.run_id, exc)
        await delivery.nak()

    async def _run_with_code(
        self, job: Job, writer: RunWriter, control: RunControl, logs: LogSink | None
    ) -> Outcome:
        if not job.code or self._code is None:
            return await self._executor.execute(job, writer.progress, control, NO_CODE, logs)
        async with contextlib.AsyncExitStack() as stack:
            try:
                entered = stack.enter_async_context(self._code.prepared(job.code))
                installed = await control.unless_stopped(entered)
            except CodeUnavailable as exc:
                log.warning("run %s: %s", job.run_id, exc)
                return Outcome(
                    RunStatus.FAILED,
                    {},
                    {},
                    f"code_unavailable: {exc}",
                    FailureReason.CODE_UNAVAILABLE,
                )
            if installed is None:  # stopped while its wheels installed (which goes on)
                return not_started(job, control)
            return await self._executor.execute(job, writer.progress, control, installed, logs)

    async def _conclude(
        self, job: Job, delivery: Delivery, writer: RunWriter, outcome: Outcome
    ) -> RunSnapshot:
        delay = self._retry_delay(job, writer.snapshot, outcome)
        if delay is not None:
            snapshot = await writer.retry_later(outcome, delay)
            if snapshot.status.terminal:  # cancelled meanwhile: no retry
                await self._end(delivery, snapshot)
                return snapshot
            await delivery.nak(delay)
            log.info("run %s failed (%s); retry in %.1fs", job.run_id, outcome.reason, delay)
            return snapshot
        await through_flaps(  # before the end is written: a worker lost between repeats it
            lambda: self._dead_letter_failure(job, delivery, writer.snapshot.attempt, outcome),
            backoff(self._settings.consumer_ack_wait_sec / 2),
        )
        final = await writer.finish(outcome)
        await self._end(delivery, final)
        return final

    def _retry_delay(self, job: Job, snapshot: RunSnapshot, outcome: Outcome) -> float | None:
        """Seconds until the next attempt, or None when this failure is final."""
        if job.retry is None or outcome.status is not RunStatus.FAILED:
            return None
        if snapshot.cancel_requested_at is not None:
            return None
        if outcome.reason is None or not outcome.reason.retryable:
            return None
        failed = 1 + sum(
            1 for attempt in snapshot.attempts if attempt.status is AttemptStatus.FAILED
        )
        if failed >= job.retry.max_attempts:
            return None
        return job.retry.delay_after(failed)

    async def _end(self, delivery: Delivery, final: RunSnapshot) -> RunStatus:
        await delivery.ack()
        _log_end(final)
        return final.status

    async def _dead_letter_failure(
        self, job: Job, delivery: Delivery, attempt: int, outcome: Outcome
    ) -> None:
        reason = _DEAD_LETTER_REASONS.get(outcome.reason) if outcome.reason else None
        if reason is None or outcome.status is not RunStatus.FAILED:
            return
        if (
            reason is DeadLetterReason.EXECUTION_ERROR
            and not self._settings.dlq_publish_execution_error
        ):
            return
        await self._dead_letters.publish(
            DeadLetter(
                reason=reason,
                error=outcome.error or reason.value,
                timestamp=self._clock(),
                tag=job.tag,
                subject=delivery.subject,
                run_id=job.run_id,
                flow_name=job.flow_name,
                worker_id=self._worker_id,
                num_delivered=attempt,
                job=job,
            )
        )

    async def _reject_invalid(self, delivery: Delivery, exc: DecodeError) -> None:
        log.warning("invalid job on %s: %s", delivery.subject, exc)
        await self._dead_letters.publish(
            DeadLetter(
                reason=DeadLetterReason.INVALID_JOB,
                error=str(exc),
                timestamp=self._clock(),
                tag=self._subjects.tag_of_work_subject(delivery.subject),
                subject=delivery.subject,
                worker_id=self._worker_id,
                num_delivered=delivery.attempt,
                payload=exc.raw[:_PAYLOAD_EXCERPT].decode("utf-8", errors="replace"),
            )
        )
        await delivery.term()


def _log_end(snapshot: RunSnapshot) -> None:
    duration = (snapshot.end_time or 0.0) - (snapshot.start_time or snapshot.end_time or 0.0)
    level = logging.DEBUG if snapshot.status is RunStatus.COMPLETED else logging.INFO
    log.log(
        level,
        "run %s %s in %.1f ms (attempt %d)%s",
        snapshot.run_id,
        snapshot.status,
        duration * 1000,
        snapshot.attempt,
        f": {snapshot.error}" if snapshot.error else "",
    )
