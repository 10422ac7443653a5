"""Handling one delivery of a job: decode, claim, execute, record the end, acknowledge.

The job is acknowledged only after its terminal snapshot is stored, so a crash anywhere before
that leads to a redelivery, never to a lost run. Dispositions:

===========================  =====================  ==========  ====================
what happened                snapshot               queue       dead letter
===========================  =====================  ==========  ====================
not a valid job              untouched              term        invalid_job
run unknown (failed submit)  none                   ack         -
run already terminal         untouched              ack         -
newer attempt owns the run   untouched              (nothing)   -
flow not found / invalid     FAILED                 ack         flow_not_found
task raised                  FAILED                 ack         execution_error
NATS unreachable             as far as it got       nak         -
===========================  =====================  ==========  ====================
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from pyoco_server.codec import decode_job
from pyoco_server.errors import BackendUnavailable, DecodeError, StaleAttempt
from pyoco_server.messages import DeadLetter, DeadLetterReason, Job
from pyoco_server.ports import DeadLetterSink, Delivery, RunStore
from pyoco_server.settings import Settings
from pyoco_server.snapshot import FailureReason, RunSnapshot, RunStatus
from pyoco_server.subjects import Subjects
from pyoco_worker.execution import Executor, Outcome
from pyoco_worker.snapshots import RunWriter

log = logging.getLogger(__name__)

_RETRY_DELAY_SEC = 2.0
_PAYLOAD_EXCERPT = 4096


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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._dead_letters = dead_letters
        self._executor = executor
        self._settings = settings
        self._worker_id = worker_id
        self._clock = clock
        self._subjects = Subjects.from_settings(settings)

    async def handle(self, delivery: Delivery) -> RunStatus | None:
        """Process one delivery to the end; returns the run's final status if it ran."""
        try:
            return await self._handle(delivery)
        except BackendUnavailable as exc:
            log.warning("job on %s returned for redelivery: %s", delivery.subject, exc)
            # If NATS is gone the nak fails too; the ack wait redelivers the job anyway.
            with contextlib.suppress(BackendUnavailable):
                await delivery.nak(_RETRY_DELAY_SEC)
            return None

    async def _handle(self, delivery: Delivery) -> RunStatus | None:
        try:
            job = decode_job(delivery.data)
        except DecodeError as exc:
            await self._reject_invalid(delivery, exc)
            return None
        stored = await self._store.get(job.run_id)
        if stored is None:
            log.warning("run %s has no snapshot (its submit failed); dropping the job", job.run_id)
            await delivery.ack()
            return None
        if stored.snapshot.terminal:
            log.info("run %s already %s; not running it again", job.run_id, stored.snapshot.status)
            await delivery.ack()
            return None
        writer = RunWriter(
            self._store,
            stored,
            worker_id=self._worker_id,
            attempt=delivery.attempt,
            flush_interval=self._settings.snapshot_flush_interval_sec,
            clock=self._clock,
        )
        try:
            return await self._run(job, delivery, writer)
        except StaleAttempt as exc:
            log.warning("run %s: %s; leaving it to its owner", job.run_id, exc.detail)
            return None

    async def _run(self, job: Job, delivery: Delivery, writer: RunWriter) -> RunStatus:
        await writer.claim()
        outcome = await self._executor.execute(job, writer.progress)
        await self._dead_letter_failure(job, delivery, outcome)
        final = await writer.finish(outcome)
        await delivery.ack()
        _log_end(final)
        return final.status

    async def _dead_letter_failure(self, job: Job, delivery: Delivery, outcome: Outcome) -> None:
        if outcome.reason in (FailureReason.FLOW_NOT_FOUND, FailureReason.INVALID_WORKFLOW):
            reason = DeadLetterReason.FLOW_NOT_FOUND
        elif (
            outcome.reason is FailureReason.EXECUTION_ERROR
            and self._settings.dlq_publish_execution_error
        ):
            reason = DeadLetterReason.EXECUTION_ERROR
        else:
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
                num_delivered=delivery.attempt,
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
    duration = (snapshot.end_time or 0.0) - (snapshot.start_time or 0.0)
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
