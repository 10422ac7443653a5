"""`GET /runs/events`: the run list's changes as server-sent events, pushed, not polled.

Every stream of a gateway process is a `ListMailbox` of the one `RunFeed` (services/runfeed.py),
which the run index's watch feeds, so an open stream costs a mailbox and a filter check per
change, not a NATS consumer or a read. A stream subscribes before it looks at the recent changes
it resumes from; both happen without yielding to the event loop, so no change falls between.

Events: `counts` first (and at most once a second while they change), `run` for each change
(id: the change's position, the runs bucket's revision), `reset` when the client must reload
(its Last-Event-ID is too old, or it fell too far behind), `heartbeat` after 15 s of silence.
The stream ends at its deadline, or when the gateway shuts down (the client then resumes).
Open streams take a watch slot like the per-run watches (`WatchSlots`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from starlette.responses import StreamingResponse

from pyoco_server.domain.codec import dumps
from pyoco_server.domain.errors import BackendUnavailable, InvalidInput
from pyoco_server.gateway.watch import HEARTBEAT_SEC, EventStream, WatchSlots
from pyoco_server.services.runfeed import (
    CLOSED,
    COUNTS,
    RESET,
    ListFilter,
    ListMailbox,
    RunFeed,
    RunItem,
)


class RunEvents:
    """Opens event streams of the run list."""

    def __init__(
        self,
        feed: RunFeed,
        loaded: Callable[[], bool],
        slots: WatchSlots,
        heartbeat_sec: float = HEARTBEAT_SEC,
    ) -> None:
        self._feed = feed
        self._loaded = loaded
        self._slots = slots
        self._heartbeat_sec = heartbeat_sec

    def open(
        self,
        scope: ListFilter,
        *,
        timeout_sec: float,
        last_event_id: str | None,
        key_id: str | None = None,
    ) -> StreamingResponse:
        """The event stream of the runs `scope` shows (refusals are raised before it starts).

        Raises:
            InvalidInput: `last_event_id` is not a position.
            BackendUnavailable: the run index is still loading.
            TooManyRequests: the process or the key has as many streams open as it may.
        """
        resume_after = _position(last_event_id)
        if not self._loaded():
            raise BackendUnavailable("the run index is still loading; retry shortly", retry_after=1)
        free_slot = self._slots.take(key_id)
        mailbox = self._feed.subscribe(scope)
        first = [] if resume_after is None else self._feed.since(resume_after, scope)

        def close() -> None:
            self._feed.unsubscribe(mailbox)
            free_slot()

        return EventStream(self._events(mailbox, first, timeout_sec), close)

    async def _events(
        self, mailbox: ListMailbox, first: list[RunItem] | None, timeout_sec: float
    ) -> AsyncIterator[bytes]:
        scope = mailbox.scope
        yield self._counts(scope)
        if first is None:
            yield _signal("reset")
        for resumed in first or ():
            yield _run_event(resumed)
        deadline = time.monotonic() + timeout_sec
        while (remaining := deadline - time.monotonic()) > 0:
            item = await mailbox.get(min(self._heartbeat_sec, remaining))
            if item is None:
                if deadline - time.monotonic() > 0:
                    yield _signal("heartbeat")
            elif item is CLOSED:
                return
            elif item is RESET:
                yield _signal("reset")
            elif item is COUNTS:
                yield self._counts(scope)
            elif isinstance(item, RunItem):
                yield _run_event(item)

    def _counts(self, scope: ListFilter) -> bytes:
        by_status = self._feed.counts(scope.tenant)
        data = dumps({"total": sum(by_status.values()), "by_status": by_status})
        return b"event: counts\ndata: %s\n\n" % data


def _position(last_event_id: str | None) -> int | None:
    if last_event_id is None or last_event_id.strip() == "":
        return None
    if not last_event_id.strip().isdigit():
        raise InvalidInput("Last-Event-ID must be the id of a run event this stream sent")
    return int(last_event_id)


def _run_event(item: RunItem) -> bytes:
    return b"id: %d\nevent: run\ndata: %s\n\n" % (item.revision, dumps(item.summary.to_dict()))


def _signal(event: str) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (event.encode(), dumps({"ts": time.time()}))
