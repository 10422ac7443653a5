"""`GET /runs/{run_id}/watch`: a run's snapshots as server-sent events, pushed, not polled.

The gateway's watch on the runs bucket fans every change out through `WatchHub`; a stream
subscribes before it reads the run, so no change falls between the read and the subscription.
It sends the current snapshot (or, when resumed with `Last-Event-ID`, every kept revision after
that one; nothing, and the stream ends, when that one was terminal), then each change as it
comes, a heartbeat event after 15 s of silence, and ends after the terminal snapshot, when the
run disappears, at its deadline, or when the gateway shuts down (the client then resumes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import StreamingResponse

from pyoco_server.domain.codec import SNAPSHOT, dumps
from pyoco_server.domain.errors import InvalidInput
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.ports import StoredSnapshot
from pyoco_server.services.runs import RunService
from pyoco_server.services.watching import CLOSED, Change, WatchHub

HEARTBEAT_SEC = 15.0

Render = Callable[[RunSnapshot], dict[str, Any]]


class RunWatch:
    """Opens event streams of single runs."""

    def __init__(self, service: RunService, hub: WatchHub, heartbeat_sec: float = HEARTBEAT_SEC):
        self._service = service
        self._hub = hub
        self._heartbeat_sec = heartbeat_sec

    async def open(
        self,
        run_id: str,
        *,
        tenant_id: str | None,
        render: Render,
        timeout_sec: float,
        last_event_id: str | None,
    ) -> StreamingResponse:
        """The event stream of a run (errors such as `RunNotFound` are raised before it starts)."""
        resume_after = _revision(last_event_id)
        queue = self._hub.subscribe(run_id)
        try:
            first, ended = await self._first(run_id, tenant_id, resume_after)
        except BaseException:
            self._hub.unsubscribe(run_id, queue)
            raise
        if ended:
            queue.put_nowait(CLOSED)
        events = self._events(run_id, queue, first, render, timeout_sec)
        return StreamingResponse(
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _first(
        self, run_id: str, tenant_id: str | None, resume_after: int | None
    ) -> tuple[list[StoredSnapshot], bool]:
        """What to send before live changes, and whether the stream ends right after it.

        That is the current snapshot, or the revisions missed since `resume_after`; the stream
        ends at once when the client already has the terminal one.
        """
        if resume_after is None:
            return [await self._service.get(run_id, tenant_id)], False
        kept = await self._service.history(run_id, tenant_id)
        missed = [stored for stored in kept if stored.revision > resume_after]
        if missed or not kept:
            return missed, False
        latest = kept[-1]
        if latest.revision < resume_after:  # not an id of this run's: start again from now
            return [latest], False
        return [], latest.snapshot.terminal

    async def _events(
        self,
        run_id: str,
        queue: asyncio.Queue[Change],
        first: list[StoredSnapshot],
        render: Render,
        timeout_sec: float,
    ) -> AsyncIterator[bytes]:
        try:
            last = 0
            for stored in first:
                yield _snapshot_event(run_id, stored.revision, render(stored.snapshot))
                last = stored.revision
                if stored.snapshot.terminal:
                    return
            async for change in self._changes(queue, timeout_sec, run_id):
                if change is None:
                    yield _heartbeat_event(run_id)
                    continue
                if change is CLOSED:
                    return
                if change.revision <= last:
                    continue
                if change.raw is None:
                    return  # deleted or expired
                snapshot = SNAPSHOT.decode(change.raw)
                yield _snapshot_event(run_id, change.revision, render(snapshot))
                last = change.revision
                if snapshot.terminal:
                    return
        finally:
            self._hub.unsubscribe(run_id, queue)

    async def _changes(
        self, queue: asyncio.Queue[Change], timeout_sec: float, run_id: str
    ) -> AsyncIterator[Change | None]:
        """Changes as they come; None when a heartbeat is due; ends at the deadline."""
        deadline = time.monotonic() + timeout_sec
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                yield await asyncio.wait_for(queue.get(), min(self._heartbeat_sec, remaining))
            except TimeoutError:
                if deadline - time.monotonic() > 0:
                    yield None


def _revision(last_event_id: str | None) -> int | None:
    if last_event_id is None or last_event_id.strip() == "":
        return None
    if not last_event_id.strip().isdigit():
        raise InvalidInput("Last-Event-ID must be the id of an event this stream sent (a number)")
    return int(last_event_id)


def _snapshot_event(run_id: str, revision: int, snapshot: dict[str, Any]) -> bytes:
    data = dumps({"run_id": run_id, "snapshot": snapshot, "ts": time.time()})
    return b"id: %d\nevent: snapshot\ndata: %s\n\n" % (revision, data)


def _heartbeat_event(run_id: str) -> bytes:
    data = dumps({"run_id": run_id, "ts": time.time()})
    return b"event: heartbeat\ndata: %s\n\n" % data


def render_view(records: bool) -> Render:
    """How snapshots are shown in events (as GET /runs/{run_id} shows them)."""

    def render(snapshot: RunSnapshot) -> dict[str, Any]:
        data = SNAPSHOT.to_dict(snapshot)
        if not records:
            data.pop("task_records")
            data.pop("task_records_truncated")
        return data

    return render
