"""Following a run's server-sent events: parsing the stream, and when to reconnect.

`GET /runs/{run_id}/watch` sends the run's snapshot, then every change, with a heartbeat during
silences, and ends after the terminal snapshot or at its `timeout_sec`. Each snapshot event's
`id` is the snapshot's revision; a request with `Last-Event-ID` resumes after that revision.

This module does no I/O, so `Client.watch` and `AsyncClient.watch` share all of it and differ
only in how they read lines and sleep:

- `EventParser` turns the lines of a `text/event-stream` into `ServerEvent`s;
- `WatchEvent` is what the facades yield: a snapshot or a heartbeat of one run;
- `WatchSession` is one watch across connections. It builds each request (through the generated
  SDK, resuming after the last event received), reads each event (the terminal snapshot ends
  the watch), and decides what to do when a connection ends or drops: reconnect at once (the
  server's deadline passed), after a growing delay (the connection dropped), or give up (the
  first connection failed, the server stayed away for `reconnect_window` seconds, or the
  caller's `timeout` ran out).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyoco_client._calls import (
    TERMINAL_STATUSES,
    JsonObject,
    given,
    problem_of_content,
    run_problem,
)
from pyoco_client._errors import ClientError, ConnectionFailed, ProblemError, TimedOut
from pyoco_server_sdk.api.runs import watch_run
from pyoco_server_sdk.models import WatchHeartbeat, WatchSnapshot
from pyoco_server_sdk.models.run_heartbeat_event_event import RUN_HEARTBEAT_EVENT_EVENT_VALUES
from pyoco_server_sdk.models.run_snapshot_event_event import RUN_SNAPSHOT_EVENT_EVENT_VALUES

_WATCH_EVENTS = RUN_SNAPSHOT_EVENT_EVENT_VALUES | RUN_HEARTBEAT_EVENT_EVENT_VALUES
"""The kinds of RunEvent (openapi.yaml); others are for newer clients."""

RECONNECT_WINDOW_SEC = 30.0
"""How long a dropped watch keeps trying to reconnect before it gives up."""

FIRST_DELAY_SEC = 0.1
"""Delay before the first reconnection attempt (unless the server sent `retry:`)."""

MAX_DELAY_SEC = 2.0
"""Longest delay between two reconnection attempts."""

MAX_STREAM_SEC = 3600.0
"""The longest `timeout_sec` the API accepts; a longer watch reconnects after it."""

_RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
"""Answers a gateway (or a proxy in front of it) gives while it restarts or NATS is away, or
while it has as many watch streams open as it may (`too_many_watches`)."""


@dataclass(frozen=True)
class ServerEvent:
    """One event of a `text/event-stream`, as sent."""

    event: str
    data: str
    id: str | None


class EventParser:
    """The lines of a `text/event-stream` as events (the WHATWG rules a watch needs).

    Comments (`: ...`) are skipped, `data:` lines join with newlines, an event without data is
    dropped, and the last `retry:` value is kept in `retry_ms`.
    """

    def __init__(self) -> None:
        self.retry_ms: int | None = None
        self.reset()

    def reset(self) -> None:
        """Forget a partly received event (the connection it came on is gone)."""
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def line(self, line: str) -> ServerEvent | None:
        """Take one line (without its end); the event it completes, if any."""
        if not line:
            return self._dispatch()
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> ServerEvent | None:
        event = ServerEvent(self._event or "message", "\n".join(self._data), self._id)
        complete = bool(self._data)
        self.reset()
        return event if complete else None


@dataclass(frozen=True)
class WatchEvent:
    """One event of a run's watch: a snapshot of the run, or a heartbeat during a silence.

    Attributes:
        event: "snapshot" or "heartbeat".
        run_id: The watched run.
        ts: When the server sent the event (Unix seconds).
        id: The snapshot's revision (pass it as `last_event_id` to resume after it); None for
            a heartbeat.
        snapshot: The run's snapshot, as `Client.get` returns it; None for a heartbeat.
    """

    event: str
    run_id: str
    ts: float
    id: str | None = None
    snapshot: JsonObject | None = None

    @property
    def status(self) -> str | None:
        """The run's status in this snapshot; None for a heartbeat."""
        return None if self.snapshot is None else self.snapshot.get("status")

    @property
    def terminal(self) -> bool:
        """True for the snapshot of an ended run (COMPLETED, FAILED or CANCELLED)."""
        return self.status in TERMINAL_STATUSES

    def to_dict(self) -> JsonObject:
        """The event as a JSON object with the same keys for every kind of event."""
        return {
            "event": self.event,
            "id": self.id,
            "run_id": self.run_id,
            "ts": self.ts,
            "snapshot": self.snapshot,
        }


class WatchSession:
    """One watch of one run, across as many connections as it takes; does no I/O itself.

    A facade loops: `request()` gives the next connection's request; `opened()` checks its
    answer; `feed()` takes each line and returns the events to yield; at the end of the stream
    `ended()`, or on an error `failed()`, says how long to wait before the next connection, or
    raises. `done` turns true after the terminal snapshot.
    """

    def __init__(
        self,
        url: str,
        run_id: str,
        *,
        records: bool,
        last_event_id: str | None,
        timeout: float | None,
        reconnect_window: float = RECONNECT_WINDOW_SEC,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.run_id = run_id
        self.done = False
        self._records = records
        self._last_id = last_event_id
        self._window = reconnect_window
        self._clock = clock
        self._started = clock()
        self._deadline = None if timeout is None else self._started + timeout
        self._parser = EventParser()
        self._received = 0  # events on the current connection
        self._connected = False  # some connection delivered an event
        self._failing_since: float | None = None
        self._failures = 0

    @property
    def last_event_id(self) -> str | None:
        """The id of the last snapshot received (or the one the watch was asked to resume)."""
        return self._last_id

    def request(self) -> dict[str, Any]:
        """Keyword arguments of httpx's `stream()` for the next connection.

        Raises:
            TimedOut: The watch's `timeout` ran out.
        """
        self._check_deadline()
        self._parser.reset()
        self._received = 0
        # The SDK's own request builder for the operation: its functions read the whole body,
        # so they cannot follow a stream, but the URL, query and headers still come from it.
        kwargs: dict[str, Any] = watch_run._get_kwargs(
            self.run_id,
            include=["records"] if self._records else given(None),
            timeout_sec=self._stream_sec(),
            last_event_id=given(self._last_id),
        )
        return kwargs

    def opened(self, status: int, content: bytes) -> None:
        """Check the status of the answer; `content` is the body of an error answer.

        Raises:
            ProblemError: The answer is an error (`RunNotFound` for an unknown run).
        """
        if status >= 400:
            raise run_problem(self.run_id, problem_of_content(status, content))

    def feed(self, line: str) -> WatchEvent | None:
        """Take one line of the stream; the event it completes, if any.

        Raises:
            ClientError: The event does not follow the API.
        """
        raw = self._parser.line(line)
        if raw is None or raw.event not in _WATCH_EVENTS:
            return None  # unknown event types are for newer clients
        event = _watch_event(raw)
        self._received += 1
        self._connected = True
        self._failing_since = None
        self._failures = 0
        if raw.id is not None:
            self._last_id = raw.id
        self.done = event.terminal
        return event

    def ended(self) -> float:
        """The server ended the stream: seconds to wait before reconnecting (0: at once).

        Raises:
            ConnectionFailed: The server keeps closing the stream without sending anything.
        """
        if self.done or self._received:
            return 0.0
        silent = ConnectionFailed(self.url, "the server closed the watch without sending events")
        return self.failed(silent)

    def failed(self, error: ClientError) -> float:
        """A connection failed with `error`: seconds to wait before reconnecting.

        Raises:
            ClientError: `error` itself, when it is not worth retrying: the first connection
                failed, the error is not a dropped connection or a restarting server, or the
                server has been away for longer than the reconnect window.
        """
        if not self._connected or not _retryable(error):
            raise error
        now = self._clock()
        if self._failing_since is None:
            self._failing_since = now
        if now - self._failing_since > self._window:
            raise error
        delay = min(MAX_DELAY_SEC, self._first_delay() * 2.0**self._failures)
        self._failures += 1
        if self._deadline is not None:
            delay = min(delay, max(0.0, self._deadline - now))
        return delay

    def _first_delay(self) -> float:
        retry_ms = self._parser.retry_ms
        return FIRST_DELAY_SEC if retry_ms is None else retry_ms / 1000

    def _stream_sec(self) -> float:
        """The `timeout_sec` of the next stream: what is left of the watch's, within the API's."""
        if self._deadline is None:
            return MAX_STREAM_SEC
        remaining = self._deadline - self._clock()
        return round(min(MAX_STREAM_SEC, max(1.0, remaining)), 3)

    def _check_deadline(self) -> None:
        if self._deadline is not None and self._clock() >= self._deadline:
            raise TimedOut(self.url, self._deadline - self._started, self.run_id)


def terminal_snapshot(event: WatchEvent | None) -> JsonObject:
    """The snapshot of `event`, the last of a finished watch.

    Raises:
        ClientError: `event` is not a terminal snapshot (the watch ended some other way).
    """
    if event is None or event.snapshot is None or not event.terminal:
        raise ClientError("the watch ended before the run did")
    return event.snapshot


def _watch_event(raw: ServerEvent) -> WatchEvent:
    """The `WatchEvent` of a snapshot or heartbeat event."""
    try:
        data = json.loads(raw.data)
        if raw.event == "snapshot":
            change = WatchSnapshot.from_dict(data)
            snapshot = change.snapshot.to_dict()
            return WatchEvent(raw.event, change.run_id, change.ts, raw.id, snapshot)
        beat = WatchHeartbeat.from_dict(data)
        return WatchEvent(raw.event, beat.run_id, beat.ts, raw.id, None)
    except (ValueError, KeyError, TypeError) as exc:
        raise ClientError(
            f"a {raw.event} event does not follow the pyoco-server API: {exc!r}"
        ) from exc


def _retryable(error: ClientError) -> bool:
    if isinstance(error, ProblemError):
        return error.status in _RETRYABLE_STATUSES
    return isinstance(error, ConnectionFailed | TimedOut)
