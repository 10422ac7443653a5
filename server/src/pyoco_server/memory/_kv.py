"""Key-value buckets in memory, and the ports built on them.

`MemoryBucket` behaves like a JetStream KV bucket where the ports can tell: a revision per write
from one sequence, create fails on a live key, update is a compare-and-set on the latest
revision, a bounded history, deletes as markers, and feeds that replay the current values and
then push every change. Records pass through the codec on the way in and out, as they do with
NATS, so a record that breaks asyncapi.yaml fails here too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable

from pyoco_server.domain.codec import (
    API_KEY,
    IDEMPOTENCY_RECORD,
    SNAPSHOT,
    WORKER_RECORD,
    encode_snapshot,
)
from pyoco_server.domain.errors import RevisionConflict
from pyoco_server.domain.records import ApiKey, IdempotencyRecord, WorkerRecord
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.domain.subjects import API_KEY_PREFIX
from pyoco_server.memory._link import Link
from pyoco_server.ports import (
    BucketOrigin,
    OnDelete,
    OnPut,
    Resume,
    StoredApiKey,
    StoredSnapshot,
    StoredWorker,
)

MAX_PAYLOAD = 1024 * 1024
"""The largest message, as a nats-server with default settings takes."""


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """One revision of a key; `value` None marks a deletion."""

    revision: int
    value: bytes | None


class MemoryBucket:
    """A KV bucket: revisions from one sequence, `history` kept per key, feeds."""

    def __init__(self, link: Link, history: int = 1) -> None:
        self._link = link
        self._history = history
        self._entries: dict[str, list[Entry]] = {}
        self._sequence = 0
        self._feeds: list[MemoryFeed] = []

    def latest(self, key: str) -> Entry | None:
        """The latest revision of `key` (a deletion included), or None."""
        entries = self._entries.get(key)
        return entries[-1] if entries else None

    def get(self, key: str) -> Entry | None:
        """The live value of `key` with its revision, or None (absent or deleted)."""
        self._link.check()
        entry = self.latest(key)
        return entry if entry is not None and entry.value is not None else None

    def put(self, key: str, value: bytes | None) -> int:
        """Write unconditionally, as another process would; the new revision."""
        self._sequence += 1
        entry = Entry(self._sequence, value)
        kept = [*self._entries.get(key, ()), entry][-self._history :]
        self._entries[key] = kept
        for feed in list(self._feeds):
            feed.deliver(key, entry)
        return entry.revision

    def create(self, key: str, value: bytes) -> int:
        """Write only when `key` has no live value (`RevisionConflict` otherwise)."""
        self._link.check()
        if self.get(key) is not None:
            raise RevisionConflict(key)
        return self.put(key, value)

    def update(self, key: str, value: bytes, revision: int) -> int:
        """Write only when the latest revision is `revision` (`RevisionConflict` otherwise)."""
        self._link.check()
        latest = self.latest(key)
        if latest is None or latest.revision != revision:
            raise RevisionConflict(key)
        return self.put(key, value)

    def delete(self, key: str) -> None:
        """Remove `key` and its history (a purge)."""
        self._link.check()
        if self.get(key) is not None:
            self.put(key, None)
        self._entries[key] = self._entries.get(key, [])[-1:]

    def history(self, key: str) -> list[Entry]:
        """The kept live revisions of `key`, oldest first."""
        self._link.check()
        return [entry for entry in self._entries.get(key, ()) if entry.value is not None]

    def keys(self, prefix: str = "") -> list[str]:
        """The keys with a live value that start with `prefix`."""
        self._link.check()
        return [key for key in self._entries if key.startswith(prefix) and self.get(key)]

    def follow(
        self, on_put: OnPut, on_delete: OnDelete, resume: Resume | None = None
    ) -> MemoryFeed:
        """A feed of this bucket (not started)."""
        return MemoryFeed(self, on_put, on_delete, resume)

    def _attach(self, feed: MemoryFeed) -> None:
        self._feeds.append(feed)
        for key in list(self._entries):
            entry = self.get(key)
            if entry is not None:
                feed.deliver(key, entry)

    def _detach(self, feed: MemoryFeed) -> None:
        if feed in self._feeds:
            self._feeds.remove(feed)


class MemoryFeed:
    """A bucket's values, then its changes, delivered on the loop in order of revision."""

    def __init__(
        self, bucket: MemoryBucket, on_put: OnPut, on_delete: OnDelete, resume: Resume | None
    ) -> None:
        self._bucket = bucket
        self._resume = resume
        self._on_put = on_put
        self._on_delete = on_delete
        self._loaded = asyncio.Event()

    @property
    def loaded(self) -> bool:
        """True once the values stored at start have been delivered."""
        return self._loaded.is_set()

    async def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait for the initial values; False on timeout."""
        try:
            await asyncio.wait_for(self._loaded.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def start(self) -> None:
        """Replay the current values, then follow."""
        if self._resume is not None:  # a bucket never seen: the follower starts over
            self._resume(BucketOrigin(f"memory:{uuid.uuid4()}", 1, 0))
        self._bucket._attach(self)
        asyncio.get_running_loop().call_soon(self._loaded.set)

    async def stop(self) -> None:
        """Stop following."""
        self._bucket._detach(self)

    def deliver(self, key: str, entry: Entry) -> None:
        """Hand `entry` to the callbacks (soon, on the loop, in order)."""
        asyncio.get_running_loop().call_soon(self._call, key, entry)

    def _call(self, key: str, entry: Entry) -> None:
        if entry.value is None:
            self._on_delete(key, entry.revision)
        else:
            self._on_put(key, entry.value, entry.revision)


class MemoryRunStore:
    """`RunStore` on a memory bucket; `writes` keeps every snapshot written, for tests."""

    def __init__(self, bucket: MemoryBucket, max_bytes: int, events: list[str]) -> None:
        self.bucket = bucket
        self._max_bytes = max_bytes
        self._events = events
        self.writes: list[RunSnapshot] = []
        self.conflicts = 0
        self._changed = asyncio.Condition()

    def put(self, snapshot: RunSnapshot) -> int:
        """Write `snapshot` unconditionally, as another process would; its new revision."""
        return self.bucket.put(
            snapshot.run_id, encode_snapshot(snapshot, self._max_bytes, MAX_PAYLOAD)
        )

    def current(self, run_id: str) -> RunSnapshot | None:
        """The stored snapshot of `run_id`, without the checks of a port call."""
        entry = self.bucket.latest(run_id)
        return SNAPSHOT.decode(entry.value) if entry and entry.value else None

    async def create(self, snapshot: RunSnapshot) -> int:
        """Store a new run's first snapshot."""
        revision = self.bucket.create(
            snapshot.run_id, encode_snapshot(snapshot, self._max_bytes, MAX_PAYLOAD)
        )
        await self._written(snapshot)
        return revision

    async def get(self, run_id: str) -> StoredSnapshot | None:
        """The latest snapshot, or None."""
        entry = self.bucket.get(run_id)
        if entry is None or entry.value is None:
            return None
        return StoredSnapshot(SNAPSHOT.decode(entry.value), entry.revision)

    async def update(self, snapshot: RunSnapshot, revision: int) -> int:
        """Compare-and-set on `revision`."""
        data = encode_snapshot(snapshot, self._max_bytes, MAX_PAYLOAD)
        try:
            new_revision = self.bucket.update(snapshot.run_id, data, revision)
        except RevisionConflict:
            self.conflicts += 1
            async with self._changed:
                self._changed.notify_all()
            raise
        await self._written(SNAPSHOT.decode(data))
        return new_revision

    async def delete(self, run_id: str) -> None:
        """Remove a run's snapshot and history."""
        self.bucket.delete(run_id)

    async def history(self, run_id: str) -> list[StoredSnapshot]:
        """The kept revisions, oldest first."""
        return [
            StoredSnapshot(SNAPSHOT.decode(entry.value), entry.revision)
            for entry in self.bucket.history(run_id)
            if entry.value is not None
        ]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds after some write attempt; TimeoutError after `timeout`."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def _written(self, snapshot: RunSnapshot) -> None:
        self.writes.append(snapshot)
        self._events.append(f"write {snapshot.status}")
        async with self._changed:
            self._changed.notify_all()


class MemoryWorkerRegistry:
    """`WorkerRegistry` on a memory bucket.

    For tests: `write` stores a record as its worker would, `current` reads one back, `puts`
    counts put attempts, and `before_put` (when set) runs before each put, to land a concurrent
    write.
    """

    def __init__(self, bucket: MemoryBucket) -> None:
        self.bucket = bucket
        self.puts = 0
        self.before_put: Callable[[], None] | None = None

    def write(self, record: WorkerRecord) -> int:
        """Write `record` unconditionally; its revision."""
        return self.bucket.put(record.worker_id, WORKER_RECORD.encode(record))

    def current(self, worker_id: str) -> WorkerRecord | None:
        """The stored record of `worker_id`, without the checks of a port call."""
        entry = self.bucket.latest(worker_id)
        return WORKER_RECORD.decode(entry.value) if entry and entry.value else None

    async def get(self, worker_id: str) -> StoredWorker | None:
        """A worker's record, or None."""
        entry = self.bucket.get(worker_id)
        if entry is None or entry.value is None:
            return None
        return StoredWorker(WORKER_RECORD.decode(entry.value), entry.revision)

    async def put(self, record: WorkerRecord, revision: int | None) -> int:
        """Create (revision None) or compare-and-set."""
        self.puts += 1
        if self.before_put is not None:
            self.before_put()
        data = WORKER_RECORD.encode(record)
        if revision is None:
            return self.bucket.create(record.worker_id, data)
        return self.bucket.update(record.worker_id, data, revision)

    async def all(self) -> list[WorkerRecord]:
        """Every record."""
        found = [await self.get(key) for key in self.bucket.keys("")]
        return [stored.record for stored in found if stored is not None]


class MemoryIdempotencyKeys:
    """`IdempotencyKeys` on a memory bucket."""

    def __init__(self, bucket: MemoryBucket) -> None:
        self.bucket = bucket

    async def get(self, key_hash: str) -> IdempotencyRecord | None:
        """The record of a key, or None."""
        entry = self.bucket.get(key_hash)
        return IDEMPOTENCY_RECORD.decode(entry.value) if entry and entry.value else None

    async def create(self, key_hash: str, record: IdempotencyRecord) -> None:
        """Record a key's run (`RevisionConflict` when recorded already)."""
        self.bucket.create(key_hash, IDEMPOTENCY_RECORD.encode(record))

    async def delete(self, key_hash: str) -> None:
        """Forget a key."""
        self.bucket.delete(key_hash)


class MemoryApiKeys:
    """`ApiKeyStore` on a memory bucket (records at `api_keys.<key_id>`)."""

    def __init__(self, bucket: MemoryBucket) -> None:
        self.bucket = bucket

    async def create(self, record: ApiKey) -> int:
        """Store a new key's record."""
        return self.bucket.create(API_KEY_PREFIX + record.key_id, API_KEY.encode(record))

    async def get(self, key_id: str) -> StoredApiKey | None:
        """The record of `key_id`, or None."""
        entry = self.bucket.get(API_KEY_PREFIX + key_id)
        if entry is None or entry.value is None:
            return None
        return StoredApiKey(API_KEY.decode(entry.value), entry.revision)

    async def update(self, record: ApiKey, revision: int) -> int:
        """Compare-and-set on `revision`."""
        return self.bucket.update(API_KEY_PREFIX + record.key_id, API_KEY.encode(record), revision)

    async def all(self) -> list[ApiKey]:
        """Every record."""
        keys = [key.removeprefix(API_KEY_PREFIX) for key in self.bucket.keys(API_KEY_PREFIX)]
        found = [await self.get(key_id) for key_id in keys]
        return [stored.record for stored in found if stored is not None]
