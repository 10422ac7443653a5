"""The gateway's live view of the runs bucket: the run index and the watch fan-out.

One feed of the runs bucket (`Backend.follow`) feeds both, and the run list's event streams
(`feed`). The index is a SQLite file of this process (gateway/indexcache.py) that the feed
resumes from: after a restart only the changes made meanwhile are read. Changes are committed
together, a quarter of a second after the first (reads see them at once: they are made on the
same connection; a crash loses only what the restart reads again from the bucket). Until its initial load is done, listing answers
503 (Retry-After) rather than an incomplete page. A second feed, of the worker registry, tells why PENDING runs wait (`waits`,
services/waiting.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import orjson

from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.gateway.indexcache import IndexCache
from pyoco_server.ports import Backend, Bucket, BucketOrigin
from pyoco_server.services.index import Filters, Page, RunIndex, Summary
from pyoco_server.services.runfeed import RunFeed
from pyoco_server.services.waiting import QueueProbe, RunWaits, WorkerView
from pyoco_server.services.watching import Change, WatchHub

log = logging.getLogger(__name__)

COMMIT_DELAY_SEC = 0.25

ChangeListener = Callable[[Summary | None, Summary | None, int], None]
"""Told `(before, after, revision)` of every change the index applies (`after` None: gone)."""


class RunView:
    """The run index and the watch hub, kept current by one watch of the runs bucket."""

    def __init__(self, backend: Backend) -> None:
        self._settings = backend.settings
        self._closed = False
        self._cache = IndexCache(backend.settings)
        self.index = RunIndex(default_tenant=backend.settings.default_tenant, path=self._cache.path)
        self.hub = WatchHub()
        self.workers = WorkerView(backend)
        self.waits = RunWaits(self.workers, QueueProbe(backend.deployment), backend.settings)
        self._listeners: list[ChangeListener] = []
        self.feed = RunFeed(backend.settings.default_tenant)
        """The run list's event streams (`GET /runs/events`)."""
        self.listen(self.feed.changed)
        self._commit_timer: asyncio.TimerHandle | None = None
        self._mirror = backend.follow(Bucket.RUNS, self._put, self._delete, self._resume)

    def start(self) -> None:
        """Start following the runs bucket and the worker registry (in the background)."""
        if self._closed:
            self._cache = IndexCache(self._settings)
            self.index.open(self._cache.path)
            self._closed = False
        self._mirror.start()
        self.workers.start()

    async def stop(self) -> None:
        """Stop following; save and close the index, freeing its cache file for another process.

        `start` opens it again: an ASGI lifespan may run twice, as test clients do.
        """
        await self._mirror.stop()
        await self.workers.stop()
        if self._commit_timer is not None:
            self._commit_timer.cancel()
            self._commit_timer = None
        self.index.close()
        self._cache.release()
        self._closed = True

    @property
    def loaded(self) -> bool:
        """True once the index holds the bucket's contents."""
        return self._mirror.loaded

    async def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait until the index holds the bucket's contents."""
        return await self._mirror.wait_loaded(timeout)

    def page(self, filters: Filters, limit: int, cursor: str | None) -> Page:
        """A page of runs (`BackendUnavailable` while the index is still loading)."""
        if not self._mirror.loaded:
            raise BackendUnavailable("the run index is still loading; retry shortly", retry_after=1)
        return self.index.page(filters, limit, cursor)

    def listen(self, listener: ChangeListener) -> None:
        """Tell `listener` of every change the index applies from now on.

        The run list's event streams (`feed`) and the metrics history follow the runs so.
        """
        self._listeners.append(listener)

    def close_streams(self) -> None:
        """End every open event stream (the gateway is shutting down; clients resume)."""
        self.hub.close()
        self.feed.close()

    def bound(self, sha256: str) -> bool:
        """True while a queued or running run is bound to the wheel with this content.

        The run index keeps the bindings with the runs, so they outlast a restart that resumes
        it; until it holds the whole bucket, any wheel may be bound.
        """
        return not self._mirror.loaded or self.index.bound(sha256)

    def _resume(self, origin: BucketOrigin) -> int:
        """Where the feed starts: after what the index file holds (0: from scratch)."""
        held = self.index.resume(origin)
        self.feed.seed(self.index.counts_by_tenant())
        return held

    def _put(self, run_id: str, raw: bytes, revision: int) -> None:
        # orjson: fastest, and the summary's fields are all text, integers of no size or times.
        data = orjson.loads(raw)
        summary = Summary.from_snapshot(data)
        code = data.get("code")
        bound = tuple(version["sha256"] for version in code) if code else ()
        change = self.index.put(summary, revision, bound)
        self._commit_soon()
        if change.applied:  # not an older revision than the one kept
            for listener in self._listeners:
                listener(change.before, summary, revision)
        self.hub.publish(run_id, Change(revision, raw))

    def _commit_soon(self) -> None:
        """Commit `COMMIT_DELAY_SEC` after the first change not committed.

        One transaction for all the changes meanwhile: a commit costs this loop about 0.1 ms, a
        change 0.05.
        """
        if self._commit_timer is None:
            loop = asyncio.get_running_loop()
            self._commit_timer = loop.call_later(COMMIT_DELAY_SEC, self._commit)

    def _commit(self) -> None:
        self._commit_timer = None
        self.index.commit()

    def _delete(self, run_id: str, revision: int) -> None:
        before = self.index.remove(run_id, revision)
        self._commit_soon()
        if before is not None:
            for listener in self._listeners:
                listener(before, None, revision)
        self.hub.publish(run_id, Change(revision, None))
