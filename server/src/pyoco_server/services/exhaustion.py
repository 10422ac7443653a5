"""Runs whose job ran out of deliveries: end them FAILED, record them, free the work stream.

A job delivered PYOCO_CONSUMER_MAX_DELIVER times without finishing (its workers kept dying
mid-run) has run out. The consumers deliver it once more (`Settings.consumer_deliveries`), and
the worker that gets that delivery ends the run here instead of running it (`exhaust`), then
terminates the message: durable, since a redelivery always reaches a worker. Only when that
delivery fails too does JetStream stop and send its advisory, which is sent once and may be
lost; `handle` answers it. Without either the run would stay RUNNING or PENDING forever, as it
did in the original.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pyoco_server.domain.cas import compare_and_set
from pyoco_server.domain.codec import JOB
from pyoco_server.domain.errors import DecodeError, TooManyConflicts
from pyoco_server.domain.records import DeadLetter, DeadLetterReason, Job, MaxDeliveriesAdvisory
from pyoco_server.domain.snapshot import FailureReason, RunStatus
from pyoco_server.domain.subjects import Subjects
from pyoco_server.ports import DeadLetterSink, RunStore, WorkStream

log = logging.getLogger(__name__)


class MaxDeliveriesHandler:
    """Ends the run of a job whose deliveries ran out (one advisory at a time)."""

    def __init__(
        self,
        store: RunStore,
        dead_letters: DeadLetterSink,
        work: WorkStream,
        subjects: Subjects,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._dead_letters = dead_letters
        self._work = work
        self._subjects = subjects
        self._clock = clock

    async def exhaust(self, job: Job, subject: str, deliveries: int) -> None:
        """End the run of a job delivered `deliveries` times, and dead-letter the job.

        The caller then terminates the message.
        """
        if await self._fail_run(job, deliveries):
            await self._dead_letter(job, subject, deliveries)

    async def handle(self, advisory: MaxDeliveriesAdvisory) -> None:
        """Fail the run, dead-letter its job and remove the job from the work stream."""
        message = await self._work.get(advisory.stream_seq)
        if message is None:
            return  # already acknowledged or removed (another handler got here first)
        subject, raw = message
        try:
            job = JOB.decode(raw)
        except DecodeError:
            log.warning("exhausted message %d is not a job; removing it", advisory.stream_seq)
        else:
            await self.exhaust(job, subject, advisory.deliveries)
        await self._work.delete(advisory.stream_seq)

    async def _fail_run(self, job: Job, deliveries: int) -> bool:
        """End the run FAILED; False when it had already ended (nothing to dead-letter)."""
        error = (
            f"max_deliveries_exceeded: the job was delivered {deliveries} times and no worker "
            "finished it (its workers stopped or died mid-run); it will not be delivered again"
        )

        async def attempt() -> bool:
            stored = await self._store.get(job.run_id)
            if stored is None or stored.snapshot.terminal:
                return False
            failed = stored.snapshot.finished(
                RunStatus.FAILED,
                self._clock(),
                error=error,
                reason=FailureReason.MAX_DELIVERIES_EXCEEDED,
            )
            await self._store.update(failed, stored.revision)
            log.warning("run %s: %s", job.run_id, error)
            return True

        try:
            return await compare_and_set(attempt, what=f"run {job.run_id}")
        except TooManyConflicts as exc:
            # Something keeps writing the run: leave it be, but still dead-letter the job so
            # that an operator sees it (and can redrive it) rather than losing it.
            log.error(
                "run %s: its job ran out of deliveries but the run could not be marked FAILED "
                "(%s); dead-lettering the job",
                job.run_id,
                exc,
            )
            return True

    async def _dead_letter(self, job: Job, subject: str, deliveries: int) -> None:
        await self._dead_letters.publish(
            DeadLetter(
                reason=DeadLetterReason.MAX_DELIVERIES_EXCEEDED,
                error=f"delivered {deliveries} times without finishing",
                timestamp=self._clock(),
                tag=self._subjects.tag_of_work_subject(subject),
                subject=subject,
                run_id=job.run_id,
                flow_name=job.flow_name,
                num_delivered=deliveries,
                job=job,
            )
        )
