"""Ports of the other stored records: workers, idempotency keys, API keys, wheels, workflows."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from pyoco_server.domain.records import (
    ApiKey,
    IdempotencyRecord,
    WheelHistoryEvent,
    WheelIndexRecord,
    WorkerRecord,
)


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


@dataclasses.dataclass(frozen=True, slots=True)
class StoredWheelIndex:
    """A distribution's wheel index record with its KV revision."""

    record: WheelIndexRecord
    revision: int


class WheelFiles(Protocol):
    """Wheel files by object name (`sha256-<hex>`), streamed from and to local files."""

    async def put(self, name: str, source: Path, headers: Mapping[str, str]) -> None:
        """Store the file at `source` as object `name` (replacing one of the same name)."""

    async def fetch(self, name: str, target: Path) -> bool:
        """Write object `name` to `target`; False when there is no such object."""

    async def delete(self, name: str) -> None:
        """Remove object `name` (nothing happens when it is gone)."""


class WheelIndex(Protocol):
    """The `pyoco_wheel_index` bucket: one record per distribution, written compare-and-set."""

    async def get(self, distribution: str) -> StoredWheelIndex | None:
        """The record of `distribution`, or None."""

    async def put(self, record: WheelIndexRecord, revision: int | None) -> int:
        """Write the record if still at `revision` (None: if absent); `RevisionConflict` if not."""

    async def all(self) -> list[WheelIndexRecord]:
        """Every record."""


class WheelHistory(Protocol):
    """The wheel history stream."""

    async def publish(self, event: WheelHistoryEvent) -> None:
        """Record an upload or a deletion."""

    async def recent(self, count: int) -> list[WheelHistoryEvent]:
        """The newest `count` events at most, newest first."""


class ApiKeyLookup(Protocol):
    """Where the gateway finds key records (an in-memory copy of the `pyoco_auth` bucket)."""

    @property
    def loaded(self) -> bool:
        """True once every stored key is known."""

    def get(self, key_id: str) -> ApiKey | None:
        """The record of `key_id`, or None when there is none."""


class WorkflowStore(Protocol):
    """The `pyoco_workflows` bucket: submitted flow.yaml files by the SHA-256 of their bytes."""

    async def put(self, sha256: str, raw: bytes) -> None:
        """Store the file (storing it again only restarts its max age: the content is the key)."""

    async def get(self, sha256: str) -> bytes | None:
        """The file's bytes, or None when it was never stored or has expired."""
