"""The wheel registry in memory: files by name, the index in a bucket, the history in a list."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from pyoco_server.domain.codec import WHEEL_HISTORY, WHEEL_INDEX
from pyoco_server.domain.records import WheelHistoryEvent, WheelIndexRecord
from pyoco_server.memory._kv import MemoryBucket
from pyoco_server.memory._link import Link
from pyoco_server.ports import StoredWheelIndex


class MemoryWheelFiles:
    """`WheelFiles` kept in a dict of bytes (tests' wheels are small)."""

    def __init__(self, link: Link) -> None:
        self._link = link
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}

    async def put(self, name: str, source: Path, headers: Mapping[str, str]) -> None:
        """Store the file's bytes."""
        self._link.check()
        self.objects[name] = (await asyncio.to_thread(source.read_bytes), dict(headers))

    async def fetch(self, name: str, target: Path) -> bool:
        """Write the object to `target`; False when missing."""
        self._link.check()
        found = self.objects.get(name)
        if found is None:
            return False
        await asyncio.to_thread(target.write_bytes, found[0])
        return True

    async def delete(self, name: str) -> None:
        """Remove the object."""
        self._link.check()
        self.objects.pop(name, None)


class MemoryWheelIndex:
    """`WheelIndex` on a memory bucket."""

    def __init__(self, bucket: MemoryBucket) -> None:
        self.bucket = bucket

    async def get(self, distribution: str) -> StoredWheelIndex | None:
        """The record of `distribution`, or None."""
        entry = self.bucket.get(distribution)
        if entry is None or entry.value is None:
            return None
        return StoredWheelIndex(WHEEL_INDEX.decode(entry.value), entry.revision)

    async def put(self, record: WheelIndexRecord, revision: int | None) -> int:
        """Create or compare-and-set."""
        data = WHEEL_INDEX.encode(record)
        if revision is None:
            return self.bucket.create(record.distribution, data)
        return self.bucket.update(record.distribution, data, revision)

    async def all(self) -> list[WheelIndexRecord]:
        """Every record."""
        found = [await self.get(key) for key in self.bucket.keys("")]
        return [stored.record for stored in found if stored is not None]


class MemoryWheelHistory:
    """`WheelHistory` in a list (encoded, as in the stream)."""

    def __init__(self, link: Link) -> None:
        self._link = link
        self.records: list[bytes] = []

    async def publish(self, event: WheelHistoryEvent) -> None:
        """Append an event."""
        self._link.check()
        self.records.append(WHEEL_HISTORY.encode(event))

    async def recent(self, count: int) -> list[WheelHistoryEvent]:
        """The newest `count` events at most, newest first."""
        self._link.check()
        return [WHEEL_HISTORY.decode(raw) for raw in reversed(self.records[-count:])]
