"""The in-memory backend (`pyoco_server.memory`) as unit tests start from it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyoco_server.domain.records import WorkerRecord
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.memory import MemoryBackend

if TYPE_CHECKING:
    from pyoco_server.memory._kv import MemoryWorkerRegistry


def backend_with(*snapshots: RunSnapshot, settings: Settings | None = None) -> MemoryBackend:
    """A memory backend whose run store holds `snapshots` (written as another process would:
    they are not in `runs.writes` nor in `events`)."""
    backend = MemoryBackend(settings)
    for snapshot in snapshots:
        backend.runs.put(snapshot)
    return backend


def registry_with(*records: WorkerRecord) -> MemoryWorkerRegistry:
    """A memory backend's worker registry holding `records` (written as their workers would)."""
    registry = MemoryBackend().workers
    for record in records:
        registry.write(record)
    return registry
