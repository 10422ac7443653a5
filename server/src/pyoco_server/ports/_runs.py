"""Ports of the run path: run snapshots, the work queue and its deliveries, dead letters."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from pyoco_server.domain.records import DeadLetter, DeadLetterReason, Job
from pyoco_server.domain.snapshot import RunSnapshot


@dataclasses.dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A snapshot with the KV revision it was read or written at."""

    snapshot: RunSnapshot
    revision: int


class RunStore(Protocol):
    """The `pyoco_runs` bucket: one snapshot per run, every write a compare-and-set."""

    async def create(self, snapshot: RunSnapshot) -> int:
        """Store a new run's first snapshot; returns its revision (`RevisionConflict` if taken)."""

    async def get(self, run_id: str) -> StoredSnapshot | None:
        """The latest snapshot of a run, or None."""

    async def update(self, snapshot: RunSnapshot, revision: int) -> int:
        """Replace the snapshot if it is still at `revision` (else `RevisionConflict`)."""

    async def delete(self, run_id: str) -> None:
        """Remove a run's snapshot."""

    async def history(self, run_id: str) -> list[StoredSnapshot]:
        """The kept revisions of a run's snapshot, oldest first."""


class Delivery(Protocol):
    """One delivery of a job message to a worker."""

    @property
    def data(self) -> bytes:
        """The raw payload."""

    @property
    def subject(self) -> str:
        """The work subject it was published on."""

    @property
    def attempt(self) -> int:
        """How many times it has been delivered, this one included (1 the first time)."""

    @property
    def seq(self) -> int:
        """The message's sequence in the work stream."""

    async def ack(self) -> None:
        """Done: remove it from the queue."""

    async def nak(self, delay: float | None = None) -> None:
        """Not done: deliver it again (after `delay` seconds)."""

    async def term(self) -> None:
        """Never deliver it again."""

    async def in_progress(self) -> None:
        """Still working: restart the ack timer."""


class TagSubscription(Protocol):
    """A worker's handle on the shared consumer of one tag."""

    tag: str

    async def fetch(self, batch: int, timeout: float) -> list[Delivery]:
        """Wait up to `timeout` seconds for up to `batch` jobs; [] when none came."""

    async def close(self) -> None:
        """Stop fetching."""


class JobQueue(Protocol):
    """The work stream: jobs by tag."""

    async def publish(self, job: Job, msg_id: str | None = None) -> int:
        """Queue a job on its tag, deduplicated by `msg_id` (default: the run id)."""

    async def subscribe(self, tag: str) -> TagSubscription:
        """Bind to the consumer shared by the workers of `tag` (created if missing)."""


class WorkStream(Protocol):
    """Direct access to messages of the work stream, by sequence."""

    async def get(self, sequence: int) -> tuple[str, bytes] | None:
        """The subject and payload of message `sequence`, or None when it is gone."""

    async def delete(self, sequence: int) -> bool:
        """Remove message `sequence`; False when it was already gone (nothing happens then)."""


class DeadLetterSink(Protocol):
    """Where jobs that could not be run are recorded."""

    async def publish(self, letter: DeadLetter) -> None:
        """Record a job that could not be run."""


@dataclasses.dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    """A dead letter with its sequence in the dead-letter stream (its id in the API)."""

    seq: int
    letter: DeadLetter


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetterSlice:
    """Dead letters read newest first, and the sequence to read next (None: none left)."""

    items: tuple[StoredDeadLetter, ...]
    next_seq: int | None


class DeadLetters(DeadLetterSink, Protocol):
    """The dead-letter stream: recording, reading and removing records."""

    async def page(
        self,
        *,
        reason: DeadLetterReason | None,
        tag: str | None,
        limit: int,
        before: int | None,
    ) -> DeadLetterSlice:
        """Up to `limit` matching records, newest first, from `before` (None: the newest) down.

        A page reads a bounded number of records: a rare filter may give fewer, with a `next_seq`.
        """

    async def get(self, seq: int) -> StoredDeadLetter | None:
        """The record at `seq`, or None when there is none (never written, deleted, expired)."""

    async def delete(self, seq: int) -> None:
        """Remove the record at `seq` (nothing happens when it is already gone)."""
