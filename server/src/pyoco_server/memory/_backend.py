"""`MemoryBackend`: every port in memory, for fast tests of the loops."""

from __future__ import annotations

import asyncio

from pyoco_server.domain.settings import Settings
from pyoco_server.memory._channels import (
    MemoryAdvisories,
    MemoryCancels,
    MemoryDeadLetters,
    MemoryDeployment,
)
from pyoco_server.memory._kv import (
    MemoryApiKeys,
    MemoryBucket,
    MemoryFeed,
    MemoryIdempotencyKeys,
    MemoryRunStore,
    MemoryWorkerRegistry,
)
from pyoco_server.memory._link import Link
from pyoco_server.memory._logs import MemoryRunLogs
from pyoco_server.memory._queue import MemoryJobQueue, MemoryWorkStream
from pyoco_server.memory._wheels import MemoryWheelFiles, MemoryWheelHistory, MemoryWheelIndex
from pyoco_server.memory._workflows import MemoryWorkflows
from pyoco_server.ports import Bucket, OnDelete, OnPut, Resume


class MemoryBackend:
    """The ports of `pyoco_server.ports`, in memory (the counterpart of `NatsBackend`).

    `events` records, in order, what the ports were asked to do that a test may want to see the
    order of (`write RUNNING`, `ack`, `nak 2.0`, `dead letter timeout`, ...). `cut()` starts an
    outage in which every port raises `BackendUnavailable`; `restore()` ends it. Several processes
    share one deployment by sharing one backend.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.link = Link()
        self.events: list[str] = []
        self.stream = MemoryWorkStream(self.settings, self.link, self.events)
        self.run_bucket = MemoryBucket(self.link, history=self.settings.runs_kv_history)
        self.api_key_bucket = MemoryBucket(self.link)
        self.runs = MemoryRunStore(
            self.run_bucket, self.settings.max_run_snapshot_bytes, self.events
        )
        self.jobs = MemoryJobQueue(self.stream, self.link)
        self.work = self.stream
        self.dead_letters = MemoryDeadLetters(self.link, self.events)
        self.workers = MemoryWorkerRegistry(MemoryBucket(self.link))
        self.idempotency = MemoryIdempotencyKeys(MemoryBucket(self.link))
        self.cancels = MemoryCancels(self.link)
        self.advisories = MemoryAdvisories(self.stream, self.link)
        self.api_keys = MemoryApiKeys(self.api_key_bucket)
        self.wheel_index_bucket = MemoryBucket(self.link)
        self.wheel_files = MemoryWheelFiles(self.link)
        self.wheel_index = MemoryWheelIndex(self.wheel_index_bucket)
        self.wheel_history = MemoryWheelHistory(self.link)
        self.deployment = MemoryDeployment(
            self.settings, self.stream, self.workers, self.dead_letters
        )
        self.workflows = MemoryWorkflows(MemoryBucket(self.link))
        self.logs = MemoryRunLogs(self.link, self.events)
        self._started = asyncio.Event()

    @property
    def ready(self) -> bool:
        """True after `start` while not cut."""
        return self._started.is_set() and self.link.down is None

    def follow(
        self, bucket: Bucket, on_put: OnPut, on_delete: OnDelete, resume: Resume | None = None
    ) -> MemoryFeed:
        """A feed of `bucket` (not started).

        It delivers every value: `resume` is told of a bucket it has never seen.
        """
        sources = {
            Bucket.RUNS: self.run_bucket,
            Bucket.API_KEYS: self.api_key_bucket,
            Bucket.WHEEL_INDEX: self.wheel_index_bucket,
            Bucket.WORKERS: self.workers.bucket,
        }
        return sources[bucket].follow(on_put, on_delete, resume)

    async def start(self) -> None:
        """Nothing to connect to."""
        self._started.set()

    def unavailable_reason(self) -> str:
        """Why the backend is not ready: not started, or its link cut by the test."""
        return (
            "the in-memory backend is not started"
            if not self._started.is_set()
            else ("the in-memory backend's link is cut")
        )

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until started and not cut; False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                await self._started.wait()
                await self.link.up.wait()
        except TimeoutError:
            return False
        return self.ready

    async def round_trip(self) -> None:
        """Everything is processed at once; raises while the link is cut."""
        self.link.check()

    async def close(self) -> None:
        """Nothing to disconnect."""

    def cut(self) -> None:
        """Start an outage: every port raises `BackendUnavailable`."""
        self.link.cut()

    def restore(self) -> None:
        """End the outage."""
        self.link.restore()
