"""Reading the dead-letter stream and driving a dead letter's run again.

A redrive takes four steps, each undone or harmless if a later one fails:

1. read the dead letter; it must keep its job (not `invalid_job`);
2. set the run back to PENDING with a compare-and-set, keeping its attempt history; a run
   still queued or running is refused (409), and a run whose snapshot is gone is recreated;
3. queue the job again, with `attempt_base` = the run's attempt (so attempts keep counting
   up) and a message id of its own (the run id alone would be dropped by JetStream's
   duplicate window if the run was queued within the last two minutes); if that fails the
   run's previous snapshot is put back;
4. delete the dead letter (if that fails the run is still queued; the record stays).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable

from pyoco_server.domain import names
from pyoco_server.domain.cas import compare_and_set
from pyoco_server.domain.errors import (
    BackendUnavailable,
    DeadLetterNotFound,
    InvalidInput,
    NotRedrivable,
    PayloadTooLarge,
    RevisionConflict,
)
from pyoco_server.domain.records import DeadLetter, DeadLetterReason, Job
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.ports import (
    DeadLetters,
    DeadLetterSlice,
    JobQueue,
    RunStore,
    StoredDeadLetter,
    StoredSnapshot,
)

log = logging.getLogger(__name__)

_SEQUENCE = re.compile(r"[0-9]{1,20}")


class DeadLetterService:
    """Pages through dead letters and redrives them."""

    def __init__(
        self,
        dead_letters: DeadLetters,
        store: RunStore,
        queue: JobQueue,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dead_letters = dead_letters
        self._store = store
        self._queue = queue
        self._clock = clock

    async def page(
        self,
        *,
        reason: DeadLetterReason | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> DeadLetterSlice:
        """A page of dead letters, newest first; `cursor` is a previous page's `next_seq`."""
        if tag is not None and not names.is_tag(tag):
            raise InvalidInput(f"tag {tag!r} is invalid: use {names.TAG_RULE}")
        before = None if cursor is None else _sequence(cursor, "cursor")
        return await self._dead_letters.page(reason=reason, tag=tag, limit=limit, before=before)

    async def redrive(self, dead_letter_id: str) -> RunSnapshot:
        """Queue the dead letter's run again (see the module docstring); its PENDING snapshot.

        Raises:
            DeadLetterNotFound: no record has this id.
            NotRedrivable: the record keeps no job, or the run has not ended.
        """
        seq = _sequence(dead_letter_id, "dead letter id")
        stored = await self._dead_letters.get(seq)
        if stored is None:
            raise DeadLetterNotFound(dead_letter_id)
        job = _job_of(stored)
        previous, pending = await self._requeue(stored.letter, job)
        again = dataclasses.replace(
            job, attempt_base=pending.snapshot.attempt, snapshot_revision=None
        )
        try:
            job_seq = await self._queue.publish(again, msg_id=f"{job.run_id}:redrive:{seq}")
        except (BackendUnavailable, PayloadTooLarge):
            await self._restore(job.run_id, previous, pending.revision)
            raise
        queued = await self._note_queued(pending, job_seq)
        await self._remove(seq, job.run_id)
        return queued

    async def _note_queued(self, pending: StoredSnapshot, job_seq: int) -> RunSnapshot:
        """Record the job's sequence on the requeued run (the reaper tells queued from lost).

        A worker that took the job first recorded it already.
        """
        queued = pending.snapshot.queued_as(job_seq)
        try:
            await self._store.update(queued, pending.revision)
        except RevisionConflict:
            pass
        except BackendUnavailable as exc:
            log.warning(
                "run %s: redriven job %d not recorded: %s", pending.snapshot.run_id, job_seq, exc
            )
        return queued

    async def _requeue(
        self, letter: DeadLetter, job: Job
    ) -> tuple[StoredSnapshot | None, StoredSnapshot]:
        """Write the PENDING snapshot; the snapshot it replaced (None: recreated) and it."""

        async def attempt() -> tuple[StoredSnapshot | None, StoredSnapshot]:
            current = await self._store.get(job.run_id)
            if current is None:
                pending = _recreated(letter, job, self._clock())
                return None, StoredSnapshot(pending, await self._store.create(pending))
            _check_ended(current.snapshot)
            pending = current.snapshot.requeued(self._clock())
            revision = await self._store.update(pending, current.revision)
            return current, StoredSnapshot(pending, revision)

        return await compare_and_set(attempt, what=f"run {job.run_id}")

    async def _restore(self, run_id: str, previous: StoredSnapshot | None, revision: int) -> None:
        """Put back the snapshot the redrive replaced (remove a recreated one)."""
        try:
            if previous is None:
                await self._store.delete(run_id)
            else:
                await self._store.update(previous.snapshot, revision)
        except (BackendUnavailable, RevisionConflict) as exc:
            # Its job was not queued: the run stays PENDING until it is cancelled or redriven.
            log.error("run %s: could not undo a failed redrive: %s", run_id, exc)

    async def _remove(self, seq: int, run_id: str) -> None:
        try:
            await self._dead_letters.delete(seq)
        except BackendUnavailable as exc:
            # The run is queued, which is what the caller asked for; the record merely stays.
            log.warning("run %s redriven, but dead letter %d not removed: %s", run_id, seq, exc)


def _sequence(text: str, what: str) -> int:
    # Connexion checks the pattern with re.search, whose `$` lets a trailing newline through.
    if _SEQUENCE.fullmatch(text) is None:
        raise InvalidInput(f"{what} {text!r} is invalid: use the digits of a dead letter's id")
    return int(text)


def _job_of(stored: StoredDeadLetter) -> Job:
    letter = stored.letter
    if letter.job is None:
        raise NotRedrivable(
            f"dead letter {stored.seq} ({letter.reason.value}) keeps no job to queue again; "
            "submit the run again instead"
        )
    return letter.job


def _check_ended(snapshot: RunSnapshot) -> None:
    if snapshot.terminal:
        return
    if snapshot.status is RunStatus.PENDING:
        state = "queued (PENDING)"
    else:
        state = f"still {snapshot.status.value}"
    raise NotRedrivable(
        f"run {snapshot.run_id} is {state}; a run can be redriven once it has ended "
        "(cancel it first to stop it)"
    )


def _recreated(letter: DeadLetter, job: Job, now: float) -> RunSnapshot:
    """A PENDING snapshot for a run whose snapshot is gone, from its job.

    Its attempt is the one that was dead-lettered, so that the next one counts on from it.
    """
    return dataclasses.replace(
        RunSnapshot.pending(job),
        updated_at=now,
        heartbeat_at=now,
        attempt=job.attempt_base + (letter.num_delivered or 0),
    )
