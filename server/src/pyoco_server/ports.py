"""The ports: the narrow interfaces through which the services, the gateway and the worker use NATS.

A `Backend` provides every port from one connection: `pyoco_server.jetstream.NatsBackend`, or
`pyoco_server.memory.MemoryBackend` for fast tests of the loops.

::

    Backend
    ├── runs          RunStore           run snapshots, every write a compare-and-set
    ├── jobs          JobQueue           the work stream: publish, and subscribe per tag
    ├── work          WorkStream         work-stream messages by sequence
    ├── dead_letters  DeadLetters        the dead-letter stream (publish, page, get, delete)
    ├── workers       WorkerRegistry     worker records
    ├── idempotency   IdempotencyKeys    which run each Idempotency-Key created
    ├── cancels       CancelChannel      cancel notices, sent and received at once
    ├── advisories    AdvisoryChannel    exhausted deliveries
    ├── api_keys      ApiKeyStore        API key records
    ├── deployment    DeploymentSource   what a metrics scrape reads
    └── follow()      Feed               a bucket's changes, pushed (runs, API keys)
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol

from pyoco_server.domain.records import (
    ApiKey,
    CancelNotice,
    DeadLetter,
    DeadLetterReason,
    IdempotencyRecord,
    Job,
    MaxDeliveriesAdvisory,
    WorkerRecord,
    WorkerState,
)
from pyoco_server.domain.settings import Settings
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

    async def publish(self, job: Job, msg_id: str | None = None) -> None:
        """Queue a job on its tag, deduplicated by `msg_id` (default: the run id)."""

    async def subscribe(self, tag: str) -> TagSubscription:
        """Bind to the consumer shared by the workers of `tag` (created if missing)."""


class WorkStream(Protocol):
    """Direct access to messages of the work stream, by sequence."""

    async def get(self, sequence: int) -> tuple[str, bytes] | None:
        """The subject and payload of message `sequence`, or None when it is gone."""

    async def delete(self, sequence: int) -> None:
        """Remove message `sequence` (nothing happens when it is already gone)."""


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
        """Write the record if still at `revision` (None: if absent); `RevisionConflict` if not."""

    async def all(self) -> list[WorkerRecord]:
        """Every kept record (the registry is small: one record per worker)."""


class IdempotencyKeys(Protocol):
    """Which run each Idempotency-Key created."""

    async def get(self, key_hash: str) -> IdempotencyRecord | None:
        """The record of a key, or None."""

    async def create(self, key_hash: str, record: IdempotencyRecord) -> None:
        """Record a key's run (`RevisionConflict` when it is already recorded)."""

    async def delete(self, key_hash: str) -> None:
        """Forget a key."""


class Subscription(Protocol):
    """A live subscription; closing it stops the deliveries."""

    async def close(self) -> None:
        """Stop delivering (never raises)."""


NoticeHandler = Callable[[CancelNotice], Coroutine[Any, Any, None]]
AdvisoryHandler = Callable[[MaxDeliveriesAdvisory], Coroutine[Any, Any, None]]


class CancelNotifier(Protocol):
    """Tells workers at once that a run was asked to stop."""

    async def notify(self, notice: CancelNotice) -> None:
        """Send the notice (best effort: workers also learn from their next write)."""


class CancelChannel(CancelNotifier, Protocol):
    """Cancel notices, both ways."""

    async def listen(self, handler: NoticeHandler) -> Subscription:
        """Call `handler` for every notice (invalid ones are dropped)."""


class AdvisoryChannel(Protocol):
    """Notices that a job's deliveries ran out (handled once, by whoever listens)."""

    async def listen(self, handler: AdvisoryHandler) -> Subscription:
        """Call `handler` for every advisory of the work stream."""


@dataclasses.dataclass(frozen=True, slots=True)
class StoredApiKey:
    """An API key record with the KV revision it was read at."""

    record: ApiKey
    revision: int


class ApiKeyStore(Protocol):
    """The `pyoco_auth` bucket: API key records (hashes only)."""

    async def create(self, record: ApiKey) -> int:
        """Store a new key's record (`RevisionConflict` when the key id exists)."""

    async def get(self, key_id: str) -> StoredApiKey | None:
        """The record of `key_id`, or None."""

    async def update(self, record: ApiKey, revision: int) -> int:
        """Replace the record if it is still at `revision` (else `RevisionConflict`)."""

    async def all(self) -> list[ApiKey]:
        """Every stored record, in no particular order."""


class ApiKeyLookup(Protocol):
    """Where the gateway finds key records (an in-memory copy of the `pyoco_auth` bucket)."""

    @property
    def loaded(self) -> bool:
        """True once every stored key is known."""

    def get(self, key_id: str) -> ApiKey | None:
        """The record of `key_id`, or None when there is none."""


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


class Bucket(enum.Enum):
    """The buckets whose changes a process can follow."""

    RUNS = "runs"
    API_KEYS = "api_keys"


OnPut = Callable[[str, bytes, int], None]
"""Called with (key, value, revision) for every stored value."""
OnDelete = Callable[[str, int], None]
"""Called with (key, revision) for every deleted, purged or expired key."""


class Feed(Protocol):
    """A bucket followed in memory: its current values, then every change, pushed."""

    @property
    def loaded(self) -> bool:
        """True once the values stored when the feed started have been delivered."""

    async def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait for the initial values; False on timeout."""

    def start(self) -> None:
        """Start following (in the background, once the backend is ready)."""

    async def stop(self) -> None:
        """Stop following."""


class Backend(Protocol):
    """Every port, from one connection; built once per process and passed down."""

    @property
    def settings(self) -> Settings:
        """The settings the backend was built with."""

    @property
    def runs(self) -> RunStore:
        """Run snapshots."""

    @property
    def jobs(self) -> JobQueue:
        """The work stream's jobs."""

    @property
    def work(self) -> WorkStream:
        """Work-stream messages by sequence."""

    @property
    def dead_letters(self) -> DeadLetters:
        """The dead-letter stream."""

    @property
    def workers(self) -> WorkerRegistry:
        """The worker registry."""

    @property
    def idempotency(self) -> IdempotencyKeys:
        """Idempotency-Key records."""

    @property
    def cancels(self) -> CancelChannel:
        """Cancel notices."""

    @property
    def advisories(self) -> AdvisoryChannel:
        """Max-deliveries advisories."""

    @property
    def api_keys(self) -> ApiKeyStore:
        """API key records."""

    @property
    def deployment(self) -> DeploymentSource:
        """What a metrics scrape reads."""

    @property
    def ready(self) -> bool:
        """True while connected with the resources in place."""

    def follow(self, bucket: Bucket, on_put: OnPut, on_delete: OnDelete) -> Feed:
        """A feed of `bucket`'s changes (not started)."""

    async def start(self) -> None:
        """Begin connecting (in the background); returns at once."""

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until ready; False on timeout."""

    async def close(self) -> None:
        """Disconnect (pending acknowledgements and publishes flushed first)."""
