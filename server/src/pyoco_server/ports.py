"""The narrow interfaces through which the gateway and the worker use JetStream.

The NATS implementations live in `pyoco_server.jetstream`; tests of logic can use fakes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Protocol

from pyoco_server.idempotency import IdempotencyRecord
from pyoco_server.messages import CancelNotice, DeadLetter, DeadLetterReason, Job
from pyoco_server.registry import WorkerRecord, WorkerState
from pyoco_server.snapshot import RunSnapshot


@dataclasses.dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A snapshot with the KV revision it was read or written at."""

    snapshot: RunSnapshot
    revision: int


class RunStore(Protocol):
    """The `pyoco_runs` bucket: one snapshot per run, every write a compare-and-set."""

    async def create(self, snapshot: RunSnapshot) -> int:
        """Store a new run's first snapshot; returns its revision."""

    async def get(self, run_id: str) -> StoredSnapshot | None:
        """The latest snapshot of a run, or None."""

    async def update(self, snapshot: RunSnapshot, revision: int) -> int:
        """Replace the snapshot if it is still at `revision` (else `RevisionConflict`)."""

    async def delete(self, run_id: str) -> None:
        """Remove a run's snapshot."""

    async def history(self, run_id: str) -> list[StoredSnapshot]:
        """The kept revisions of a run's snapshot, oldest first."""


class JobQueue(Protocol):
    """The work stream: jobs by tag."""

    async def publish(self, job: Job, msg_id: str | None = None) -> None:
        """Queue a job on its tag, deduplicated by `msg_id` (default: the run id)."""


class IdempotencyKeys(Protocol):
    """Which run each Idempotency-Key created."""

    async def get(self, key_hash: str) -> IdempotencyRecord | None:
        """The record of a key, or None."""

    async def create(self, key_hash: str, record: IdempotencyRecord) -> None:
        """Record a key's run (`RevisionConflict` when it is already recorded)."""

    async def delete(self, key_hash: str) -> None:
        """Forget a key."""


class CancelNotifier(Protocol):
    """Tells workers at once that a run was asked to stop."""

    async def notify(self, notice: CancelNotice) -> None:
        """Send the notice (best effort: workers also learn from their next write)."""


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
        """How many times it has been delivered, this one included (1 on first delivery)."""

    async def ack(self) -> None:
        """Done: remove it from the queue."""

    async def nak(self, delay: float | None = None) -> None:
        """Not done: deliver it again (after `delay` seconds)."""

    async def term(self) -> None:
        """Never deliver it again."""

    async def in_progress(self) -> None:
        """Still working: restart the ack timer."""


class WorkStream(Protocol):
    """Direct access to messages of the work stream, by sequence."""

    async def get(self, sequence: int) -> tuple[str, bytes] | None:
        """The subject and payload of message `sequence`, or None when it is gone."""

    async def delete(self, sequence: int) -> None:
        """Remove message `sequence` (nothing happens when it is already gone)."""


class TagSubscription(Protocol):
    """A worker's handle on the shared consumer of one tag."""

    tag: str

    async def fetch(self, batch: int, timeout: float) -> list[Delivery]:
        """Wait up to `timeout` seconds for up to `batch` jobs; [] when none came."""

    async def close(self) -> None:
        """Stop fetching."""


class DeadLetterSink(Protocol):
    """The dead-letter stream."""

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


class DeadLetterStore(Protocol):
    """Reading and removing records of the dead-letter stream."""

    async def page(
        self,
        *,
        reason: DeadLetterReason | None,
        tag: str | None,
        limit: int,
        before: int | None,
    ) -> DeadLetterSlice:
        """Up to `limit` matching records, newest first, from sequence `before` down.

        `before` None starts at the newest record. A page reads a bounded number of
        records, so a rare filter may give fewer than `limit` items with a `next_seq`.
        """

    async def get(self, seq: int) -> StoredDeadLetter | None:
        """The record at `seq`, or None when there is none (never written, deleted, expired)."""

    async def delete(self, seq: int) -> None:
        """Remove the record at `seq` (nothing happens when it is already gone)."""


@dataclasses.dataclass(frozen=True, slots=True)
class StoredWorker:
    """A worker record with the KV revision it was read or written at."""

    record: WorkerRecord
    revision: int


class WorkerRegistry(Protocol):
    """The `pyoco_workers` bucket: one record per worker id, written compare-and-set."""

    async def get(self, worker_id: str) -> StoredWorker | None:
        """A worker's record, or None."""

    async def put(self, record: WorkerRecord, revision: int | None) -> int:
        """Write the record if it is still at `revision` (None: only if absent).

        Returns the new revision; raises `RevisionConflict` when the record changed.
        """

    async def all(self) -> list[WorkerRecord]:
        """Every kept record (the registry is small: one record per worker)."""


@dataclasses.dataclass(frozen=True, slots=True)
class QueueDepth:
    """The jobs of one tag, as its durable consumer sees them."""

    tag: str
    pending: int
    """Published and not yet delivered."""
    in_flight: int
    """Delivered and not yet acknowledged."""
    redelivered: int
    """Of those in flight, delivered more than once."""


@dataclasses.dataclass(frozen=True, slots=True)
class Deployment:
    """What one scrape read from NATS."""

    queues: tuple[QueueDepth, ...] = ()
    workers: Mapping[WorkerState, int] = dataclasses.field(default_factory=dict)
    dead_letters: int = 0


class DeploymentSource(Protocol):
    """Reads the scrape-time state of the deployment."""

    async def read(self) -> Deployment:
        """The state now; `BackendUnavailable` when NATS cannot answer."""
