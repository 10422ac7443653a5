"""A run's task logs for the clients: the page request, and following a log as it is written.

`GET /runs/{run_id}/logs` answers a page of records (`logs_page`). With `follow=true` it is an
event stream: a `log` event per record (id: the record's `seq`), heartbeats during silences,
and an `end` event with the run's status once the run ended and every record was sent.
`LogSession` follows that stream across connections with the watch's policy (`WatchSession`,
_sse.py): a dropped connection is reopened with `Last-Event-ID` (the last record received), so
no record is lost or repeated. Like `WatchSession` it does no I/O; `Client.follow_logs` and
`AsyncClient.follow_logs` drive it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from pyoco_client._calls import Call, JsonObject, given, read_run
from pyoco_client._errors import ClientError, ConnectionFailed, ProblemError, TimedOut
from pyoco_client._sse import ServerEvent, WatchSession
from pyoco_client._transport import stream_timeout, translated
from pyoco_server_sdk.api.logs import get_run_logs
from pyoco_server_sdk.models import LogEnd, LogRecord
from pyoco_server_sdk.models.log_end_event_event import LOG_END_EVENT_EVENT_VALUES
from pyoco_server_sdk.models.log_heartbeat_event_event import LOG_HEARTBEAT_EVENT_EVENT_VALUES
from pyoco_server_sdk.models.log_record_event_event import LOG_RECORD_EVENT_EVENT_VALUES

_LOG_EVENTS = (
    LOG_RECORD_EVENT_EVENT_VALUES | LOG_HEARTBEAT_EVENT_EVENT_VALUES | LOG_END_EVENT_EVENT_VALUES
)
"""The kinds of LogEvent (openapi.yaml); others are for newer clients."""


@dataclass(frozen=True)
class LogEvent:
    """One event of a followed log: a record, a heartbeat, or the end of the run.

    Attributes:
        event: "log", "heartbeat" or "end".
        run_id: The run whose log it is.
        record: For "log", the record as `Client.logs` lists it (`seq`, `task`, `stream`,
            `level`, `logger`, `message`, `ts`, `attempt`); None otherwise.
        status: For "end", the run's final status; None otherwise.
        id: For "log", the record's `seq` as text (pass it as `after` to read on from it).
    """

    event: str
    run_id: str
    record: JsonObject | None = None
    status: str | None = None
    id: str | None = None

    def to_dict(self) -> JsonObject:
        """The event as a JSON object with the same keys for every kind of event."""
        return {
            "event": self.event,
            "run_id": self.run_id,
            "id": self.id,
            "record": self.record,
            "status": self.status,
        }


def logs_page(run_id: str, task: str | None, after: int, limit: int) -> Call[JsonObject]:
    """`GET /runs/{run_id}/logs`: a page of the run's records."""
    kwargs = {"task": given(task), "after": after, "limit": limit}
    return Call(get_run_logs, (run_id,), kwargs, read_run(run_id))


class LogSession(WatchSession):
    """One follow of a run's log, across as many connections as it takes (no I/O itself).

    The facades loop as for a watch (see `WatchSession`), calling `feed_log` for each line;
    `done` turns true after the `end` event.
    """

    def __init__(
        self, url: str, run_id: str, *, task: str | None, after: int, timeout: float | None
    ) -> None:
        super().__init__(
            url, run_id, records=False, last_event_id=str(after) if after else None, timeout=timeout
        )
        self._task = task

    def request(self) -> dict[str, Any]:
        """Keyword arguments of httpx's `stream()` for the next connection.

        Raises:
            TimedOut: The follow's `timeout` ran out.
        """
        self._check_deadline()
        self._parser.reset()
        self._received = 0
        kwargs: dict[str, Any] = get_run_logs._get_kwargs(
            self.run_id,
            task=given(self._task),
            follow=True,
            timeout_sec=self._stream_sec(),
            last_event_id=given(self._last_id),
        )
        return kwargs

    def feed_log(self, line: str) -> LogEvent | None:
        """Take one line of the stream; the event it completes, if any.

        Raises:
            ClientError: The event does not follow the API.
        """
        raw = self._parser.line(line)
        if raw is None or raw.event not in _LOG_EVENTS:
            return None  # unknown event types are for newer clients
        event = _log_event(self.run_id, raw)
        self._received += 1
        self._connected = True
        self._failing_since = None
        self._failures = 0
        if event.id is not None:
            self._last_id = event.id
        self.done = event.event == "end"
        return event


def followed(
    http: httpx.Client, session: LogSession, base_url: str, timeout: float
) -> Iterator[LogEvent]:
    """The events of `session`, over as many connections of `http` as it takes (sync)."""
    while not session.done:
        request = session.request()
        try:
            with (
                translated(base_url, timeout),
                http.stream(**request, timeout=stream_timeout(timeout)) as response,
            ):
                session.opened(response.status_code, response.read() if response.is_error else b"")
                for line in response.iter_lines():
                    if (event := session.feed_log(line)) is not None:
                        yield event
                    if session.done:
                        break
        except (ConnectionFailed, TimedOut, ProblemError) as exc:
            delay = session.failed(exc)
        else:
            delay = session.ended()
        if delay:
            time.sleep(delay)


async def afollowed(
    http: httpx.AsyncClient, session: LogSession, base_url: str, timeout: float
) -> AsyncIterator[LogEvent]:
    """The events of `session`, over as many connections of `http` as it takes (asyncio)."""
    while not session.done:
        request = session.request()
        try:
            with translated(base_url, timeout):
                async with http.stream(**request, timeout=stream_timeout(timeout)) as response:
                    error = await response.aread() if response.is_error else b""
                    session.opened(response.status_code, error)
                    async for line in response.aiter_lines():
                        if (event := session.feed_log(line)) is not None:
                            yield event
                        if session.done:
                            break
        except (ConnectionFailed, TimedOut, ProblemError) as exc:
            delay = session.failed(exc)
        else:
            delay = session.ended()
        if delay:
            await asyncio.sleep(delay)


def _log_event(run_id: str, raw: ServerEvent) -> LogEvent:
    try:
        data = json.loads(raw.data)
        if raw.event == "log":
            record = LogRecord.from_dict(data).to_dict()
            return LogEvent("log", run_id, record=record, id=str(record["seq"]))
        if raw.event == "end":
            return LogEvent("end", run_id, status=LogEnd.from_dict(data).status)
        return LogEvent("heartbeat", run_id)
    except (ValueError, KeyError, TypeError) as exc:
        raise ClientError(
            f"a {raw.event} event does not follow the pyoco-server API: {exc!r}"
        ) from exc
