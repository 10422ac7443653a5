"""Idle, slow and bloated requests cannot hold the gateway's connections or memory.

httpwrites.OneWriteProtocol, and limits.BodyBudget for the bodies held at once.

Against a real gateway process with PYOCO_HTTP_HEADER_TIMEOUT_SEC=1, over raw sockets: a
connection that sends nothing, or a request's headers a byte at a time (slowloris), is closed
once the deadline passes; headers that arrive in pieces within it, a keep-alive connection's
next request, and a request whose body pauses within it are served. Before, such connections
were held for good: 4,000 of them held 4,000 descriptors of the gateway's. With
PYOCO_HTTP_BODY_MIN_BYTES_PER_SEC=1000, a body that stops coming is a 408 problem, and one sent
a byte at a time, before or after the request's answer, closes the connection; a body that keeps
pace is served however long it takes. Before, all three were held for good. A request line or
headers over 64 KiB are a 431 problem, with the gateway's memory unchanged; before, 64 MiB of
headers were read and the request served. A connection that pipelines thousands of requests is
closed once 32 wait behind the one running; before, uvicorn queued all it read (about 2 KiB
each). With PYOCO_HTTP_BODIES_MAX_BYTES=250000, a body that does not fit beside a stalled one is
a 503 before it is read, and fits once that one is in; before, nothing bounded their sum.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from pyoco_server.domain.settings import Settings
from pyoco_server.gateway.httpwrites import MAX_HEAD_BYTES, MAX_PIPELINED
from tests.support.processes import Gateway, start_gateway
from tests.support.usage import MIB, rss_bytes

TIMEOUT_SEC = 1.0
BODY_RATE = 1000
"""PYOCO_HTTP_BODY_MIN_BYTES_PER_SEC here, in bytes a second."""
BODIES_MAX = 250_000
"""PYOCO_HTTP_BODIES_MAX_BYTES here."""
REQUEST = b"GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n"
LENGTH = re.compile(rb"(?i)content-length: *(\d+)")


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "PYOCO_HTTP_HEADER_TIMEOUT_SEC": str(TIMEOUT_SEC),
        "PYOCO_HTTP_BODY_MIN_BYTES_PER_SEC": str(BODY_RATE),
        "PYOCO_HTTP_BODIES_MAX_BYTES": str(BODIES_MAX),
    }


@pytest.fixture
def gateway(settings: Settings, tmp_path: Path) -> Iterator[Gateway]:
    gateway = start_gateway(settings, tmp_path)
    yield gateway
    gateway.process.stop()


def connect(gateway: Gateway) -> socket.socket:
    host, port = gateway.url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=10)
    return connection


def closed_within(connection: socket.socket, seconds: float) -> float | None:
    """Seconds until the gateway closed `connection` (read to its end), or None if it did not."""
    started = time.monotonic()
    connection.settimeout(seconds)
    try:
        while connection.recv(65536):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def response_to(connection: socket.socket) -> bytes:
    """One response, head and body (by its Content-Length); what came if the connection ended."""
    connection.settimeout(10)
    received = b""
    while True:
        head, separator, body = received.partition(b"\r\n\r\n")
        length = LENGTH.search(head)
        if separator and len(body) >= (int(length.group(1)) if length else 0):
            return received
        chunk = connection.recv(65536)
        if not chunk:
            return received
        received += chunk


def problem_in(response: bytes, status: int) -> Any:
    """The problem document of `response`, which must have `status`."""
    head, _, document = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), response
    assert b"content-type: application/problem+json" in head.lower()
    return json.loads(document)


def next_response(reader: BinaryIO) -> bytes:
    """The next response on a connection read through `reader`, head and body."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return head
        head += line
    length = LENGTH.search(head)
    return head + reader.read(int(length.group(1)) if length else 0)


def test_a_connection_that_sends_nothing_is_closed_after_the_deadline(gateway: Gateway) -> None:
    with connect(gateway) as connection:
        waited = closed_within(connection, TIMEOUT_SEC * 10)
    assert waited is not None, "the gateway kept a connection that never sent a byte"
    assert waited >= TIMEOUT_SEC * 0.5


def test_headers_sent_a_byte_at_a_time_are_cut_off_at_the_deadline(gateway: Gateway) -> None:
    """Each byte comes well within the deadline: it counts from the first, not the last."""
    with connect(gateway) as connection:
        started = time.monotonic()
        connection.settimeout(0.2)
        closed = False
        for byte in REQUEST[:-2] + b"X-Pad: 1\r\n" * 100:  # headers that never end
            if closed or time.monotonic() - started > TIMEOUT_SEC * 10:
                break
            try:
                connection.sendall(bytes([byte]))
                closed = connection.recv(65536) == b""
            except TimeoutError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        elapsed = time.monotonic() - started
    assert closed, "the gateway kept reading headers a byte at a time past the deadline"
    assert TIMEOUT_SEC * 0.5 <= elapsed < TIMEOUT_SEC * 10


def test_headers_in_pieces_within_the_deadline_are_served(gateway: Gateway) -> None:
    with connect(gateway) as connection:
        for piece in (REQUEST[:10], REQUEST[10:25], REQUEST[25:]):
            connection.sendall(piece)
            time.sleep(TIMEOUT_SEC / 5)  # the slowness under test, not a wait for something
        response = response_to(connection)
    assert response.startswith(b"HTTP/1.1 200 "), response


def test_a_keep_alive_connection_serves_requests_after_the_first(gateway: Gateway) -> None:
    """The first request's deadline does not close the connection under the next ones."""
    with connect(gateway) as connection:
        for _ in range(3):
            connection.sendall(REQUEST)
            assert response_to(connection).startswith(b"HTTP/1.1 200 ")
            time.sleep(TIMEOUT_SEC * 0.7)  # the pause under test, within uvicorn's keep-alive


def submit_head(length: int, path: str = "/runs") -> bytes:
    """The line and headers of a JSON submit whose body takes `length` bytes."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def submit_body(padding: int = 0) -> bytes:
    """A submit no worker takes, its params padded by `padding` bytes."""
    params = {"pad": "x" * padding}
    return json.dumps({"flow_name": "main", "tag": "nobody-serves-this", "params": params}).encode()


def test_a_body_that_pauses_within_the_deadline_is_served(gateway: Gateway) -> None:
    body = submit_body()
    with connect(gateway) as connection:
        connection.sendall(submit_head(len(body)) + body[:10])
        time.sleep(TIMEOUT_SEC * 0.5)  # the slowness under test
        connection.sendall(body[10:])
        response = response_to(connection)
    assert response.startswith(b"HTTP/1.1 201 "), response


def test_a_body_that_stops_coming_is_a_408_and_the_connection_closed(gateway: Gateway) -> None:
    """Before, the gateway waited for the rest for good, the connection held."""
    body = submit_body()
    with connect(gateway) as connection:
        started = time.monotonic()
        connection.sendall(submit_head(len(body)) + body[:10])
        response = response_to(connection)
        elapsed = time.monotonic() - started
        closed = closed_within(connection, TIMEOUT_SEC * 5)
    problem = problem_in(response, 408)
    assert problem["reason"] == "body_too_slow"
    assert "PYOCO_HTTP_BODY_MIN_BYTES_PER_SEC" in problem["detail"]
    assert closed is not None, "the connection stayed open after the 408"
    assert TIMEOUT_SEC * 0.5 <= elapsed < TIMEOUT_SEC * 10


def trickle(
    connection: socket.socket, data: bytes, every_sec: float, give_up_sec: float
) -> tuple[bool, bytes]:
    """Send `data` a byte every `every_sec`; whether the gateway closed first, and what it sent.

    Gives up after `give_up_sec`.
    """
    started = time.monotonic()
    received = b""
    connection.settimeout(every_sec)
    for byte in data:
        if time.monotonic() - started > give_up_sec:
            return False, received
        try:
            connection.sendall(bytes([byte]))
            chunk = connection.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


def test_a_body_sent_a_byte_at_a_time_is_cut_off(gateway: Gateway) -> None:
    """Each byte comes well within the deadline; the pace is what is judged (BODY_RATE)."""
    body = submit_body(4096)
    with connect(gateway) as connection:
        connection.sendall(submit_head(len(body)))
        started = time.monotonic()
        closed, received = trickle(connection, body, 0.05, TIMEOUT_SEC * 10)
        elapsed = time.monotonic() - started
    assert closed, "the gateway kept reading a body a byte at a time past the deadline"
    assert received.startswith(b"HTTP/1.1 408 "), received
    assert TIMEOUT_SEC * 0.5 <= elapsed < TIMEOUT_SEC * 10


def test_a_body_that_keeps_pace_is_served_however_long_it_takes(gateway: Gateway) -> None:
    """Pieces for twice the deadline, at ten times BODY_RATE."""
    body = submit_body(BODY_RATE * 20)
    pieces = 20
    size = -(-len(body) // pieces)
    with connect(gateway) as connection:
        connection.sendall(submit_head(len(body)))
        for at in range(0, len(body), size):
            connection.sendall(body[at : at + size])
            time.sleep(TIMEOUT_SEC * 2 / pieces)  # the pace under test
        response = response_to(connection)
    assert response.startswith(b"HTTP/1.1 201 "), response


def test_a_body_trickled_after_an_early_answer_is_cut_off(gateway: Gateway) -> None:
    """A path the gateway does not have is answered at once, before its body.

    uvicorn then reads the body to drop it, each byte cancelling its keep-alive timer: before,
    the connection was held for good.
    """
    body = submit_body(4096)
    with connect(gateway) as connection:
        connection.sendall(submit_head(len(body), "/no-such-path"))
        reader = connection.makefile("rb")
        assert next_response(reader).startswith(b"HTTP/1.1 404 ")
        closed, received = trickle(connection, body, 0.05, TIMEOUT_SEC * 10)
    assert closed, "the gateway kept reading the body of an answered request a byte at a time"
    assert received == b"", received  # answered already: no 408 after its answer


def test_bodies_over_the_process_budget_are_refused_until_one_is_in(gateway: Gateway) -> None:
    """A stalled body holds its size; one that does not fit beside it is a 503 before it is read.

    Before, nothing bounded the sum: 800 connections holding all but the last byte of a 500 KB
    submit took the gateway from 77 to 475 MiB.
    """
    held, refused = submit_body(150_000), submit_body(120_000)
    with connect(gateway) as holding, connect(gateway) as other:
        expecting = submit_head(len(held)).replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n")
        holding.sendall(expecting)  # answered once the application reads: its size is taken
        assert response_to(holding).startswith(b"HTTP/1.1 100 ")
        holding.sendall(held[:-1])
        other.sendall(submit_head(len(refused)))
        busy = response_to(other)
        closed = closed_within(other, 10)
        with connect(gateway) as small:
            small.sendall(REQUEST)
            health = response_to(small)
        holding.sendall(held[-1:])
        accepted = response_to(holding)
    with connect(gateway) as after:
        after.sendall(submit_head(len(refused)) + refused)
        again = response_to(after)
    problem = problem_in(busy, 503)
    assert b"retry-after: 1" in busy.partition(b"\r\n\r\n")[0].lower()
    assert problem["reason"] == "gateway_busy"
    assert "PYOCO_HTTP_BODIES_MAX_BYTES" in problem["detail"]
    assert closed is not None, "the refused request's connection stayed open"
    assert health.startswith(b"HTTP/1.1 200 "), health
    assert accepted.startswith(b"HTTP/1.1 201 "), accepted
    assert again.startswith(b"HTTP/1.1 201 "), again


@pytest.mark.parametrize("where", ["headers", "query"])
def test_a_head_over_the_limit_is_a_431_and_the_gateway_does_not_grow(
    gateway: Gateway, where: str
) -> None:
    with connect(gateway) as warm:  # the paths a request takes, warmed up
        warm.sendall(REQUEST)
        assert response_to(warm).startswith(b"HTTP/1.1 200 ")
    before = rss_bytes(gateway.process.pid)
    with connect(gateway) as connection:
        if where == "query":
            connection.sendall(b"GET /health?q=")
            filler = b"a" * 65536
        else:
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: gateway\r\n")
            filler = b"X-Pad: " + b"b" * 1000 + b"\r\n"
        sent = 0
        try:
            while sent < 64 * MIB:
                connection.sendall(filler)
                sent += len(filler)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the gateway answered and closed while the rest was on its way
        response = response_to(connection)
    grown = rss_bytes(gateway.process.pid) - before

    problem = problem_in(response, 431)
    assert (problem["status"], problem["reason"]) == (431, "headers_too_large")
    assert f"more than {MAX_HEAD_BYTES} bytes" in problem["detail"]
    assert sent < 16 * MIB, "the gateway read on past its limit"
    assert grown < 4 * MIB, f"the gateway grew by {grown / MIB:.1f} MiB"


def test_a_head_just_within_the_limit_is_served(gateway: Gateway) -> None:
    pad = b"X-Pad: " + b"c" * (MAX_HEAD_BYTES - 1024) + b"\r\n"
    with connect(gateway) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: gateway\r\n" + pad + b"\r\n")
        response = response_to(connection)
    assert response.startswith(b"HTTP/1.1 200 "), response[:300]


def test_a_few_pipelined_requests_are_all_answered_in_order(gateway: Gateway) -> None:
    ids = [f"pipelined{n:02d}" for n in range(10)]
    requests = [
        f"GET /health HTTP/1.1\r\nHost: gateway\r\nX-Request-ID: {id_}\r\n\r\n" for id_ in ids
    ]
    with connect(gateway) as connection:
        connection.sendall("".join(requests).encode())
        reader = connection.makefile("rb")
        responses = [next_response(reader) for _ in requests]
    assert all(response.startswith(b"HTTP/1.1 200 ") for response in responses), responses
    echoed = [re.search(rb"(?i)x-request-id: *(\S+)", response) for response in responses]
    assert [match.group(1).decode() if match else None for match in echoed] == ids


def test_thousands_of_pipelined_requests_close_the_connection_not_fill_the_gateway(
    gateway: Gateway,
) -> None:
    with connect(gateway) as warm:
        warm.sendall(REQUEST)
        assert response_to(warm).startswith(b"HTTP/1.1 200 ")
    before = rss_bytes(gateway.process.pid)
    received = b""
    with connect(gateway) as connection:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # closed meanwhile
            connection.sendall(REQUEST * 8000)
        grown = rss_bytes(gateway.process.pid) - before
        connection.settimeout(10)
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass

    answered = received.count(b"HTTP/1.1 200 ")
    assert answered == received.count(b"HTTP/1.1 "), "some were not 200s"
    assert answered <= MAX_PIPELINED + 1, f"{answered} of 8,000 pipelined requests answered"
    assert grown < 4 * MIB, f"the gateway grew by {grown / MIB:.1f} MiB"


def test_a_head_that_begins_after_other_requests_in_the_same_read_is_not_refused(
    gateway: Gateway,
) -> None:
    """The bytes of a read before a request's head are not counted against it."""
    padded = b"GET /health HTTP/1.1\r\nHost: gateway\r\nX-Pad: " + b"p" * 4000 + b"\r\n\r\n"
    ahead = padded * 20  # 80 KB of whole requests, in one write with the next one's start
    assert len(ahead) > MAX_HEAD_BYTES
    with connect(gateway) as connection:
        connection.sendall(ahead + REQUEST[:20])
        reader = connection.makefile("rb")
        answered = [next_response(reader) for _ in range(20)]
        connection.sendall(REQUEST[20:])
        answered.append(next_response(reader))
    assert [response[:13] for response in answered] == [b"HTTP/1.1 200 "] * 21, answered[-1]
