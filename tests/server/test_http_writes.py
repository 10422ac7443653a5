"""The gateway's HTTP protocol (gateway/httpwrites.py): a response's headers and body leave as one
write; streamed responses, closes and clients that go away are served as uvicorn serves them; a
body the application is slow to take is not held against its client's pace.

A real uvicorn server on a loopback port, on uvloop as the gateway runs, with the writes on each
connection's socket transport counted."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pyoco_server.gateway import __main__ as gateway_main
from pyoco_server.gateway.httpwrites import WRITE_THROUGH_BYTES, CorkedTransport, OneWriteProtocol
from tests.support.pool import eventually

WAIT_SEC = 10.0


class _Recorder:
    """A transport that records each write that reaches it, then makes it."""

    def __init__(self, transport: asyncio.Transport, writes: list[bytes]) -> None:
        self._transport = transport
        self.writes = writes

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def counting(protocol: type[HttpToolsProtocol], writes: list[bytes]) -> type[HttpToolsProtocol]:
    """`protocol`, with every write to its connections' sockets appended to `writes`."""

    class Counting(protocol):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(_Recorder(transport, writes))

    return Counting


App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def plain(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b'{"ok":true}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def serving(
    app: App, protocol: type[HttpToolsProtocol]
) -> AsyncIterator[tuple[int, uvicorn.Server]]:
    """`app` served by uvicorn with `protocol`; its loopback port and the server."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=protocol, log_level="warning", lifespan="off", loop="none")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started, WAIT_SEC, "uvicorn to start")
        yield sock.getsockname()[1], server
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT_SEC)


async def exchange(port: int, request: bytes, responses: int = 1) -> bytes:
    """Send `request` and read until `responses` whole responses (or the end) have come."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    received = b""
    while received.count(b"HTTP/1.1 ") < responses or not received.endswith(b"}"):
        chunk = await asyncio.wait_for(reader.read(65536), WAIT_SEC)
        if not chunk:
            break
        received += chunk
    writer.close()
    return received


GET = b"GET / HTTP/1.1\r\nhost: test\r\n\r\n"


def run(body: Callable[[], Awaitable[None]]) -> None:
    uvloop.run(asyncio.wait_for(body(), 30))


@pytest.mark.parametrize(("protocol", "expected"), [(HttpToolsProtocol, 2), (OneWriteProtocol, 1)])
def test_a_response_leaves_in_one_write(protocol: type[HttpToolsProtocol], expected: int) -> None:
    writes: list[bytes] = []

    async def body() -> None:
        async with serving(plain, counting(protocol, writes)) as (port, _):
            received = await exchange(port, GET)
        assert received.startswith(b"HTTP/1.1 201 Created\r\n")
        assert received.endswith(b'\r\n\r\n{"ok":true}')

    run(body)
    assert len(writes) == expected  # uvicorn's own: headers, then body
    assert b"".join(writes).endswith(b'{"ok":true}')


def test_each_response_on_a_kept_alive_connection_is_one_write() -> None:
    writes: list[bytes] = []

    async def body() -> None:
        async with serving(plain, counting(OneWriteProtocol, writes)) as (port, _):
            received = await exchange(port, GET + GET + GET, responses=3)
        assert received.count(b'{"ok":true}') == 3

    run(body)
    assert len(writes) == 3
    assert all(write.startswith(b"HTTP/1.1 201") for write in writes)


def test_a_streamed_response_is_sent_as_it_goes() -> None:
    """Headers and the first event reach the client while the application still waits."""
    writes: list[bytes] = []
    go_on = asyncio.Event()

    async def stream(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        await go_on.wait()
        await send({"type": "http.response.body", "body": b"data: 2\n\n", "more_body": False})

    async def body() -> None:
        async with serving(stream, counting(OneWriteProtocol, writes)) as (port, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            first = b""
            while b"data: 1\n\n" not in first:
                chunk = await asyncio.wait_for(reader.read(65536), WAIT_SEC)
                assert chunk, "the server closed the stream"
                first += chunk
            assert first.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"data: 2" not in first
            go_on.set()
            rest = b""
            while not rest.endswith(b"0\r\n\r\n"):
                rest += await asyncio.wait_for(reader.read(65536), WAIT_SEC)
            assert b"data: 2\n\n" in rest
            writer.close()

    run(body)
    assert len(writes) == 2  # headers with the first event, then the last event and the end


def test_a_large_body_sent_without_pause_arrives_whole() -> None:
    """Chunks sent in one step meet the socket's flow control, as with uvicorn's transport."""
    chunks = [bytes([65 + n % 26]) * 65536 for n in range(48)]
    size = sum(map(len, chunks))

    async def large(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-length", b"%d" % size)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for chunk in chunks[:-1]:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": chunks[-1]})

    async def body() -> None:
        async with serving(large, OneWriteProtocol) as (port, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT_SEC)
            received = await asyncio.wait_for(reader.readexactly(size), WAIT_SEC)
            writer.close()
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert received == b"".join(chunks)

    run(body)


def test_a_response_that_closes_the_connection_is_written_whole_first() -> None:
    writes: list[bytes] = []

    async def body() -> None:
        async with serving(plain, counting(OneWriteProtocol, writes)) as (port, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n")
            received = await asyncio.wait_for(reader.read(), WAIT_SEC)  # until the server closes
            writer.close()
        assert received.startswith(b"HTTP/1.1 201 Created\r\n")
        assert received.endswith(b'{"ok":true}')

    run(body)
    assert len(writes) == 1


def test_a_client_gone_before_its_response_leaves_no_error() -> None:
    errors: list[dict[str, Any]] = []
    answering = asyncio.Event()
    answer = asyncio.Event()

    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        answering.set()
        await answer.wait()
        await plain(scope, receive, send)

    async def body() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, context: errors.append(context))
        async with serving(slow, OneWriteProtocol) as (port, server):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET)
            await asyncio.wait_for(answering.wait(), WAIT_SEC)
            writer.close()
            await writer.wait_closed()
            await eventually(
                lambda: not server.server_state.connections, WAIT_SEC, "the server to see the end"
            )
            answer.set()
            assert (await exchange(port, GET)).endswith(b'{"ok":true}')

    run(body)
    assert errors == []


class _Transport:
    """A stand-in for a socket transport: what was written, closed, aborted."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.events.append(bytes(data))

    def close(self) -> None:
        self.events.append("close")
        self.closing = True

    def write_eof(self) -> None:
        self.events.append("eof")

    def abort(self) -> None:
        self.events.append("abort")
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str) -> str:
        return f"info {name}"


def corked() -> tuple[CorkedTransport, _Transport, asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    transport = _Transport()
    return CorkedTransport(transport, loop), transport, loop  # type: ignore[arg-type]


def one_round(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))


def test_writes_of_one_round_go_out_as_one_write_at_its_end() -> None:
    cork, transport, loop = corked()
    cork.write(b"head ")
    cork.write(b"")
    cork.writelines([bytearray(b"bo"), memoryview(b"dy")])
    assert transport.events == []
    assert cork.get_write_buffer_size() == 7 + 9
    one_round(loop)
    cork.write(b"next")
    one_round(loop)
    assert transport.events == [b"head body", b"next"]
    assert cork.get_extra_info("peername") == "info peername"
    loop.close()


def test_a_large_write_goes_out_at_once_to_meet_flow_control() -> None:
    cork, transport, loop = corked()
    cork.write(b"head ")
    big = b"x" * WRITE_THROUGH_BYTES
    cork.write(big)  # not kept for the round's end: the transport may pause the writer now
    assert transport.events == [b"head " + big]
    assert cork.get_write_buffer_size() == 7
    cork.write(b"tail")
    one_round(loop)
    assert transport.events == [b"head " + big, b"tail"]
    loop.close()


def test_close_and_half_close_write_what_is_kept_first_and_abort_drops_it() -> None:
    cork, transport, loop = corked()
    cork.write(b"a")
    cork.write_eof()
    cork.write(b"b")
    cork.close()
    one_round(loop)
    assert transport.events == [b"a", "eof", b"b", "close"]
    cork, transport, loop2 = corked()
    cork.write(b"lost")
    cork.abort()
    one_round(loop2)
    assert transport.events == ["abort"]
    cork.write(b"after")  # a closing transport is not written to
    one_round(loop2)
    assert transport.events == ["abort"]
    loop.close()
    loop2.close()


def test_the_gateway_serves_with_the_one_write_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.update(kwargs, app=app))
    monkeypatch.setattr("sys.argv", ["python -m pyoco_server.gateway", "--port", "8123"])
    gateway_main.main()
    assert served["http"] is OneWriteProtocol
    assert served["port"] == 8123


class _Hasty(OneWriteProtocol):
    """Bodies held to a pace that no client can keep while uvicorn does not read."""

    header_timeout_sec = 0.3
    body_min_bytes_per_sec = 50_000_000


def test_a_body_the_application_is_slow_to_take_is_not_cut_off() -> None:
    """uvicorn stops reading a body once 64 KiB of it wait for the application: that wait is
    not the client's pace, however long it lasts (OneWriteProtocol's bound on bodies)."""
    size = 4 * 1024 * 1024

    async def slow_reader(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asyncio.sleep(_Hasty.header_timeout_sec * 4)  # the slowness under test
        received, more = 0, True
        while more:
            message = await receive()
            received += len(message.get("body", b""))
            more = message.get("more_body", False)
        answer = b"%d" % received
        headers = [(b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    async def body() -> None:
        async with serving(slow_reader, _Hasty) as (port, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            head = (
                b"POST / HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-length: %d\r\n\r\n"
            )
            writer.write(head % size)
            writer.write(b"x" * size)
            await asyncio.wait_for(writer.drain(), WAIT_SEC)
            received = await asyncio.wait_for(reader.read(), WAIT_SEC)
            writer.close()
        assert received.startswith(b"HTTP/1.1 200 OK\r\n"), received[:200]
        assert received.endswith(b"\r\n\r\n%d" % size)

    run(body)
