"""A worker loop on the in-memory backend, for the loop's unit tests: a deployment (backend,
run service) with fast timings, workers with scripted executors, and a way to serve one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.memory import MemoryBackend
from pyoco_server.services.runs import RunService, Submission
from pyoco_worker.worker import Worker
from tests.support.fakes import ScriptedExecutor

FAST = {
    "consumer_ack_wait_sec": 0.3,
    "ack_progress_interval_sec": 0.05,
    "run_heartbeat_interval_sec": 0.05,
    "worker_heartbeat_interval_sec": 0.05,
    "snapshot_flush_interval_sec": 0.01,
}


class Deployment:
    """A memory backend with a run service and workers on it."""

    def __init__(self, **settings: Any) -> None:
        self.settings = Settings(**{**FAST, **settings})
        self.backend = MemoryBackend(self.settings)
        self.service = RunService(
            self.backend.runs, self.backend.jobs, self.settings, notifier=self.backend.cancels
        )

    def worker(
        self, executor: ScriptedExecutor, *, concurrency: int = 1, grace: float = 5.0, **kw: Any
    ) -> Worker:
        return Worker(
            self.backend,
            worker_id=kw.pop("worker_id", "w1"),
            tags=kw.pop("tags", ("default",)),
            executor=executor,
            concurrency=concurrency,
            shutdown_grace_sec=grace,
            fetch_timeout=0.05,
        )

    async def submit(self, count: int = 1, tag: str | None = None) -> list[str]:
        runs = [
            await self.service.submit(Submission("main", {"x": 1}, tag=tag)) for _ in range(count)
        ]
        return [run.run_id for run in runs]

    def snapshot(self, run_id: str) -> RunSnapshot:
        found = self.backend.runs.current(run_id)
        assert found is not None
        return found

    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        await self.backend.runs.wait_for(predicate, timeout)

    async def ended(self, *run_ids: str) -> None:
        await self.until(lambda: all(self.snapshot(run).terminal for run in run_ids))


@contextlib.asynccontextmanager
async def serving(worker: Worker) -> AsyncIterator[asyncio.Event]:
    """Run `worker` until the block ends (or a test sets the yielded stop event)."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def run(test: Callable[[], Awaitable[None]]) -> None:
    """Run an async test body."""
    asyncio.run(test())
