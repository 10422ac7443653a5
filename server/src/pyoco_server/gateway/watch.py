"""`GET /runs/{run_id}/watch`: a run's snapshots as server-sent events, pushed, not polled.

The gateway's watch on the runs bucket fans every change out through `WatchHub`; a stream
subscribes before it reads the run, so no change falls between the read and the subscription.
It sends the current snapshot (or, when resumed with `Last-Event-ID`, every kept revision after
that one; nothing, and the stream ends, when that one was terminal), then each change as it
comes, a heartbeat event after 15 s of silence, and ends after the terminal snapshot, when the
run disappears, at its deadline, or when the gateway shuts down (the client then resumes).

Open streams are capped per process and per API key (`WatchSlots`, 429 `too_many_watches`
beyond); a stream's slot is given back however it ends, a client that goes away included.
What a slow reader has not taken waits in a bounded `Mailbox` (the latest changes are kept).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from pyoco_server.domain.codec import SNAPSHOT, dumps
from pyoco_server.domain.errors import InvalidInput, TooManyRequests
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.ports import StoredSnapshot
from pyoco_server.services.runs import RunService
from pyoco_server.services.watching import CLOSED, Change, Mailbox, WatchHub

HEARTBEAT_SEC = 15.0
WATCH_RETRY_AFTER_SEC = 5
"""Retry-After of a watch refused for too many open streams."""

Render = Callable[[RunSnapshot], dict[str, Any]]


class WatchSlots:
    """Counts open streams, per process and per API key, and refuses those over the caps."""

    def __init__(self, per_process: int, per_key: int) -> None:
        self._per_process = per_process
        self._per_key = per_key
        self._open = 0
        self._by_key: dict[str, int] = {}

    def take(self, key_id: str | None) -> Callable[[], None]:
        """Take a slot for a stream of `key_id` (None: API keys off); the call that frees it.

        Raises:
            TooManyRequests: the process or the key has as many streams open as it may.
        """
        if self._open >= self._per_process:
            raise _too_many(
                f"this gateway process has {self._open} watch streams open, its limit "
                "(PYOCO_WATCH_MAX_STREAMS)"
            )
        if key_id is not None and self._by_key.get(key_id, 0) >= self._per_key:
            raise _too_many(
                f"API key {key_id} has {self._per_key} watch streams open on this gateway "
                "process, its limit (PYOCO_WATCH_MAX_STREAMS_PER_KEY); close one"
            )
        self._open += 1
        if key_id is not None:
            self._by_key[key_id] = self._by_key.get(key_id, 0) + 1
        freed = False

        def free() -> None:
            nonlocal freed
            if not freed:
                freed = True
                self._free(key_id)

        return free

    def _free(self, key_id: str | None) -> None:
        self._open -= 1
        if key_id is not None:
            left = self._by_key[key_id] - 1
            if left:
                self._by_key[key_id] = left
            else:
                del self._by_key[key_id]


def _too_many(detail: str) -> TooManyRequests:
    return TooManyRequests(
        "too_many_watches",
        f"{detail}; retry in {WATCH_RETRY_AFTER_SEC} s, or poll GET /runs/{{run_id}}",
        WATCH_RETRY_AFTER_SEC,
    )


class EventStream(StreamingResponse):
    """A streaming response that calls `on_close` when it ends, however it ends.

    Starlette starts the body's generator only after the response headers went out, so a
    client that is gone by then would leave the generator's cleanup unrun.
    """

    def __init__(self, content: AsyncIterator[bytes], on_close: Callable[[], None]) -> None:
        super().__init__(
            content,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the response, then `on_close`."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()


class RunWatch:
    """Opens event streams of single runs."""

    def __init__(
        self,
        service: RunService,
        hub: WatchHub,
        slots: WatchSlots,
        heartbeat_sec: float = HEARTBEAT_SEC,
    ):
        self._service = service
        self._hub = hub
        self._slots = slots
        self._heartbeat_sec = heartbeat_sec

    async def open(
        self,
        run_id: str,
        *,
        tenant_id: str | None,
        render: Render,
        timeout_sec: float,
        last_event_id: str | None,
        key_id: str | None = None,
    ) -> StreamingResponse:
        """The event stream of a run (errors such as `RunNotFound` are raised before it starts).

        `key_id` is the caller's API key (None with keys off), whose streams are capped.
        """
        resume_after = _revision(last_event_id)
        free_slot = self._slots.take(key_id)
        mailbox = self._hub.subscribe(run_id)

        def close() -> None:
            self._hub.unsubscribe(run_id, mailbox)
            free_slot()

        try:
            first, ended = await self._first(run_id, tenant_id, resume_after)
        except BaseException:
            close()
            raise
        if ended:
            mailbox.close()
        return EventStream(self._events(run_id, mailbox, first, render, timeout_sec), close)

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
        mailbox: Mailbox,
        first: list[StoredSnapshot],
        render: Render,
        timeout_sec: float,
    ) -> AsyncIterator[bytes]:
        """The events (the stream unsubscribes and frees its slot when the response ends)."""
        last = 0
        for stored in first:
            yield _snapshot_event(run_id, stored.revision, render(stored.snapshot))
            last = stored.revision
            if stored.snapshot.terminal:
                return
        async for change in self._changes(mailbox, timeout_sec):
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

    async def _changes(self, mailbox: Mailbox, timeout_sec: float) -> AsyncIterator[Change | None]:
        """Changes as they come; None when a heartbeat is due; ends at the deadline."""
        deadline = time.monotonic() + timeout_sec
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                yield await asyncio.wait_for(mailbox.get(), min(self._heartbeat_sec, remaining))
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
