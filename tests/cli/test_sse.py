"""The watch's event parsing and reconnection, without a gateway.

The parser and the session's policy are tested as plain objects (the session with a fake clock);
reconnection is tested over real HTTP against a small scripted server that drops connections,
ends streams early or answers 503, and records each request's headers.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from pyoco_client import (
    AsyncClient,
    Client,
    ClientError,
    ConnectionFailed,
    ProblemError,
    RunNotFound,
    TimedOut,
    WatchEvent,
)
from pyoco_client._sse import MAX_DELAY_SEC, EventParser, ServerEvent, WatchSession
from tests.support.fakes import Clock
from tests.support.processes import free_port
from tests.support.servers import Script, ScriptedServer

RUN_ID = "run-1"


def snapshot_event(revision: int, status: str) -> bytes:
    snapshot = {
        "run_id": RUN_ID,
        "flow_name": "main",
        "tag": "default",
        "tags": ["default"],
        "status": status,
        "params": {},
        "tasks": {},
        "updated_at": 1000.0 + revision,
    }
    data = json.dumps({"run_id": RUN_ID, "snapshot": snapshot, "ts": 2000.0 + revision})
    return f"id: {revision}\nevent: snapshot\ndata: {data}\n\n".encode()


HEARTBEAT = f'event: heartbeat\ndata: {{"run_id": "{RUN_ID}", "ts": 1.5}}\n\n'.encode()
DROP = None
"""In a script: close the connection here, in the middle of the chunked body."""


# -- the parser ----------------------------------------------------------------------------


def parse(*lines: str) -> tuple[list[ServerEvent], EventParser]:
    parser = EventParser()
    events = [event for line in lines if (event := parser.line(line)) is not None]
    return events, parser


def test_parser_follows_the_event_stream_rules() -> None:
    events, parser = parse(
        ": a comment, such as a heartbeat",
        "",
        "id: 7",
        "event: snapshot",
        "data: {",
        'data:  "a": 1}',
        "",
        "event: lonely",  # no data: not an event
        "",
        "data:x",  # no space after the colon; default event type
        "retry: 2500",
        "id: bad\0id",  # ids with NUL are ignored
        "",
    )
    assert events == [
        ServerEvent("snapshot", '{\n "a": 1}', "7"),
        ServerEvent("message", "x", None),
    ]
    assert parser.retry_ms == 2500


def test_parser_reset_drops_a_partial_event() -> None:
    parser = EventParser()
    parser.line("id: 3")
    parser.line("data: half")
    parser.reset()
    assert parser.line("") is None


# -- the session's policy, with a fake clock -------------------------------------------------


def session(clock: Clock, **kwargs: Any) -> WatchSession:
    options: dict[str, Any] = {"records": False, "last_event_id": None, "timeout": None}
    return WatchSession("http://gw", RUN_ID, clock=clock, **{**options, **kwargs})


def feed(watch: WatchSession, raw: bytes) -> list[WatchEvent]:
    lines = raw.decode().split("\n")
    return [event for line in lines if (event := watch.feed(line)) is not None]


def test_request_resumes_after_the_last_event() -> None:
    watch = session(Clock(), records=True)
    first = watch.request()
    assert first["url"] == f"/runs/{RUN_ID}/watch"
    assert first["params"] == {"include": ["records"], "timeout_sec": 3600.0}
    assert "Last-Event-ID" not in first["headers"]
    assert [event.id for event in feed(watch, snapshot_event(4, "RUNNING"))] == ["4"]
    assert [event.event for event in feed(watch, HEARTBEAT)] == ["heartbeat"]
    assert watch.request()["headers"]["Last-Event-ID"] == "4"
    assert watch.last_event_id == "4"


def test_the_terminal_snapshot_ends_the_watch() -> None:
    watch = session(Clock())
    watch.request()
    (running,) = feed(watch, snapshot_event(1, "RUNNING"))
    assert (running.status, running.terminal, watch.done) == ("RUNNING", False, False)
    (ended,) = feed(watch, snapshot_event(2, "CANCELLED"))
    assert (ended.terminal, watch.done) == (True, True)
    assert watch.ended() == 0


def test_a_failure_before_any_event_is_raised_at_once() -> None:
    watch = session(Clock())
    watch.request()
    refused = ConnectionFailed("http://gw", "Connection refused")
    with pytest.raises(ConnectionFailed):
        watch.failed(refused)


def test_drops_are_retried_with_growing_delays_within_the_window() -> None:
    clock = Clock()
    watch = session(clock, reconnect_window=10)
    watch.request()
    feed(watch, snapshot_event(1, "RUNNING"))
    dropped = ConnectionFailed("http://gw", "peer closed connection")
    delays = [watch.failed(dropped) for _ in range(7)]
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.6, MAX_DELAY_SEC, MAX_DELAY_SEC]
    assert watch.failed(ProblemError(503, "Service Unavailable", None, None)) == MAX_DELAY_SEC
    clock.now += 10.5
    with pytest.raises(ConnectionFailed):
        watch.failed(dropped)


def test_an_event_resets_the_backoff_and_the_window() -> None:
    clock = Clock()
    watch = session(clock, reconnect_window=10)
    watch.request()
    feed(watch, snapshot_event(1, "RUNNING"))
    dropped = ConnectionFailed("http://gw", "reset")
    watch.failed(dropped)
    clock.now += 9
    watch.request()
    feed(watch, HEARTBEAT)
    clock.now += 9
    assert watch.failed(dropped) == 0.1  # a new outage, a new window


def test_a_gateway_with_no_watch_slot_free_is_retried() -> None:
    watch = session(Clock(), reconnect_window=10)
    watch.request()
    feed(watch, snapshot_event(1, "RUNNING"))
    busy = ProblemError(429, "Too Many Requests", "too many streams", "too_many_watches")
    assert watch.failed(busy) == 0.1


def test_server_retry_field_sets_the_first_delay() -> None:
    watch = session(Clock())
    watch.request()
    feed(watch, b"retry: 500\n" + snapshot_event(1, "RUNNING"))
    assert watch.failed(ConnectionFailed("http://gw", "reset")) == 0.5


@pytest.mark.parametrize(
    "error",
    [
        RunNotFound(RUN_ID, ProblemError(404, "Not Found", "gone", "run_not_found")),
        ProblemError(403, "Forbidden", None, "api_key_invalid"),
    ],
)
def test_answers_that_will_not_change_are_not_retried(error: ProblemError) -> None:
    watch = session(Clock())
    watch.request()
    feed(watch, snapshot_event(1, "RUNNING"))
    with pytest.raises(ProblemError) as caught:
        watch.failed(error)
    assert caught.value is error


def test_the_deadline_bounds_streams_and_ends_the_watch() -> None:
    clock = Clock()
    watch = session(clock, timeout=90.5)
    assert watch.request()["params"]["timeout_sec"] == 90.5
    feed(watch, snapshot_event(1, "RUNNING"))
    clock.now += 90
    assert watch.ended() == 0  # the server ended the stream at its timeout_sec
    assert watch.request()["params"]["timeout_sec"] == 1.0  # the API's minimum
    clock.now += 1
    with pytest.raises(TimedOut) as caught:
        watch.request()
    assert (caught.value.run_id, caught.value.timeout) == (RUN_ID, 90.5)
    assert str(caught.value) == f"run {RUN_ID!r} did not end within 90.5s"


def test_an_empty_stream_counts_as_a_drop() -> None:
    watch = session(Clock())
    watch.request()
    feed(watch, snapshot_event(1, "RUNNING"))
    watch.request()
    assert watch.ended() == 0.1


def test_an_event_off_the_contract_is_a_client_error() -> None:
    watch = session(Clock())
    watch.request()
    with pytest.raises(ClientError, match="snapshot event does not follow the pyoco-server API"):
        feed(watch, b'id: 1\nevent: snapshot\ndata: {"run_id": "x"}\n\n')
    assert feed(watch, b"event: news\ndata: {}\n\n") == []  # unknown kinds are skipped


# -- reconnection over real HTTP ------------------------------------------------------------


def watch_all(url: str, mode: str, client_timeout: float = 5.0, **kwargs: Any) -> list[WatchEvent]:
    """Every event of a watch of RUN_ID, with the sync or the async client."""
    if mode == "sync":
        with Client(url, timeout=client_timeout) as client:
            return list(client.watch(RUN_ID, **kwargs))

    async def collect() -> list[WatchEvent]:
        async with AsyncClient(url, timeout=client_timeout) as client:
            return [event async for event in client.watch(RUN_ID, **kwargs)]

    return asyncio.run(collect())


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@MODES
def test_a_dropped_connection_resumes_with_last_event_id(mode: str) -> None:
    scripts: list[Script] = [
        [snapshot_event(1, "PENDING"), snapshot_event(2, "RUNNING"), DROP],
        [b": heartbeat\n\n", snapshot_event(5, "COMPLETED")],
    ]
    with ScriptedServer(scripts) as server:
        events = watch_all(server.url, mode, records=True)
    assert [(event.id, event.status) for event in events] == [
        ("1", "PENDING"),
        ("2", "RUNNING"),
        ("5", "COMPLETED"),
    ]
    first, second = server.requests
    assert "last-event-id" not in {name.lower() for name in first["headers"]}
    assert second["headers"]["Last-Event-ID"] == "2"
    assert first["query"] == {"include": ["records"], "timeout_sec": ["3600.0"]}


@MODES
def test_a_stream_that_ends_early_is_reopened_at_once(mode: str) -> None:
    scripts: list[Script] = [
        [snapshot_event(1, "RUNNING"), HEARTBEAT],  # the server's timeout_sec ran out
        503,  # a restarting gateway
        [snapshot_event(3, "FAILED")],
    ]
    started = time.monotonic()
    with ScriptedServer(scripts) as server:
        events = watch_all(server.url, mode)
    assert [event.event for event in events] == ["snapshot", "heartbeat", "snapshot"]
    assert events[-1].status == "FAILED"
    assert [request["headers"].get("Last-Event-ID") for request in server.requests] == [
        None,
        "1",
        "1",
    ]
    assert time.monotonic() - started < 5


@MODES
def test_a_resumed_watch_sends_the_given_last_event_id(mode: str) -> None:
    with ScriptedServer([[snapshot_event(9, "COMPLETED")]]) as server:
        events = watch_all(server.url, mode, last_event_id="8")
    assert [event.id for event in events] == ["9"]
    assert server.requests[0]["headers"]["Last-Event-ID"] == "8"


@MODES
def test_an_unknown_run_is_run_not_found_without_retrying(mode: str) -> None:
    with ScriptedServer([404]) as server, pytest.raises(RunNotFound):
        watch_all(server.url, mode)
    assert len(server.requests) == 1


@MODES
def test_no_server_fails_at_once(mode: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConnectionFailed) as caught:
        watch_all(url, mode)
    assert caught.value.url == url


@MODES
def test_silence_longer_than_the_timeout_does_not_end_the_watch(mode: str) -> None:
    script: Script = [snapshot_event(1, "RUNNING"), 1.5, snapshot_event(2, "COMPLETED")]
    with ScriptedServer([script]) as server:
        events = watch_all(server.url, mode, client_timeout=0.3)
    assert [event.status for event in events] == ["RUNNING", "COMPLETED"]
    assert len(server.requests) == 1
