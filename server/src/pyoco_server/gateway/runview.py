"""The gateway's live view of the runs bucket: the run index and the watch fan-out.

One feed of the runs bucket (`Backend.follow`) feeds both. Until its initial load is done, listing
answers 503 (Retry-After) rather than an incomplete page.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.ports import Backend, Bucket
from pyoco_server.services.index import Filters, Page, RunIndex, Summary
from pyoco_server.services.watching import Change, WatchHub

log = logging.getLogger(__name__)

_ENDED = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


class RunView:
    """The run index and the watch hub, kept current by one watch of the runs bucket."""

    def __init__(self, backend: Backend) -> None:
        self.index = RunIndex()
        self.hub = WatchHub()
        self._bound: dict[str, set[str]] = {}
        """Wheel sha256 -> the queued or running runs bound to it."""
        self._mirror = backend.follow(Bucket.RUNS, self._put, self._delete)

    def start(self) -> None:
        """Start following the bucket (in the background)."""
        self._mirror.start()

    async def stop(self) -> None:
        """Stop following the bucket."""
        await self._mirror.stop()

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

    def bound(self, sha256: str) -> bool:
        """True while a queued or running run is bound to the wheel with this content."""
        return bool(self._bound.get(sha256))

    def _put(self, run_id: str, raw: bytes, revision: int) -> None:
        # orjson: fastest, and the summary's fields are all text, integers of no size or times.
        data = orjson.loads(raw)
        self.index.put(Summary.from_snapshot(data), revision)
        self._track_code(run_id, data.get("code") or (), data["status"] in _ENDED)
        self.hub.publish(run_id, Change(revision, raw))

    def _delete(self, run_id: str, revision: int) -> None:
        self.index.remove(run_id)
        for runs in self._bound.values():  # deleted or expired: no longer needs its code
            runs.discard(run_id)
        self.hub.publish(run_id, Change(revision, None))

    def _track_code(self, run_id: str, code: Any, ended: bool) -> None:
        """Keep `_bound` current: a run counts while it is queued or running."""
        for bound in code:
            runs = self._bound.setdefault(bound["sha256"], set())
            if ended:
                runs.discard(run_id)
            else:
                runs.add(run_id)
