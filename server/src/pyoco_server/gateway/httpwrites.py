"""uvicorn's HTTP protocol as the gateway serves it: writes together, requests' heads bounded.

`OneWriteProtocol` bounds a request's line and headers in time and size, and its body's pace
(its docstring).

uvicorn writes a response's status line and headers when the application sends
`http.response.start`, and its body when it sends `http.response.body`: two `send` system calls
for every response, each of which, on a loopback or LAN socket, costs the gateway's CPU and
wakes the client once more. `OneWriteProtocol` gives uvicorn's request cycles a transport
(`CorkedTransport`) that keeps what is written until the event loop's next round and then
writes it at once: a response's headers and body, which Starlette sends in one step, leave as
one write. A streamed response (an SSE watch) still leaves as it is sent, one loop round later.

Everything but writing goes straight to uvicorn's transport. Closing, a half close and a lost
connection first write (or drop) what is kept, in order. Once `WRITE_THROUGH_BYTES` are kept they
are written at once, so that a large body meets the transport's flow control (uvicorn waits for
the socket to drain when its buffer is full) as it would without the cork.
tests/server/test_http_writes.py checks the writes a response makes, streams, large bodies,
closes and a client that goes away; tests/server/test_slow_clients.py the bounds on requests.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pyoco_server.gateway.access import PROBLEM_JSON, Refusal

WRITE_THROUGH_BYTES = 64 * 1024
"""Kept bytes that are written without waiting for the end of the loop's round."""

MAX_HEAD_BYTES = 64 * 1024
"""What a request's line and headers may take beyond the read that began them (431 beyond)."""

MAX_PIPELINED = 32
"""Requests a read may leave waiting behind the one running (the connection is closed beyond)."""


def _raw_response(refusal: Refusal) -> bytes:
    """`refusal` as the bytes of an HTTP/1.1 response that closes the connection."""
    body = refusal.document()
    head = (
        f"HTTP/1.1 {refusal.status} {refusal.title}\r\ncontent-type: {PROBLEM_JSON}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


_HEAD_TOO_LARGE = _raw_response(
    Refusal(
        431,
        "Request Header Fields Too Large",
        f"the request's line and headers take more than {MAX_HEAD_BYTES} bytes; send less in "
        "the query string and headers (data belongs in the body)",
        "headers_too_large",
    )
)


class CorkedTransport:
    """A transport whose writes in one round of the event loop go out as one write."""

    __slots__ = ("_kept", "_loop", "_scheduled", "_size", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._kept: list[bytes] = []
        self._size = 0
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Keep `data` for the write at the end of this round of the loop.

        Once `WRITE_THROUGH_BYTES` are kept, everything kept is written now.
        """
        if not data:
            return
        self._kept.append(bytes(data))
        self._size += len(data)
        if self._size >= WRITE_THROUGH_BYTES:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def writelines(self, chunks: Any) -> None:
        """Keep each of `chunks` (as `write`)."""
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Write what is kept, as one write (nothing once the transport is closing)."""
        self._scheduled = False
        if not self._kept:
            return
        kept = self._kept
        self._kept = []
        self._size = 0
        if not self._transport.is_closing():
            self._transport.write(kept[0] if len(kept) == 1 else b"".join(kept))

    def close(self) -> None:
        """Write what is kept, then close (the transport sends it before closing)."""
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        """Write what is kept, then half close."""
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        """Drop what is kept and close at once."""
        self._kept = []
        self._size = 0
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        """What the transport holds, and what is kept for it."""
        return self._transport.get_write_buffer_size() + self._size

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _body_too_slow(grace_sec: float, min_bytes_per_sec: int) -> bytes:
    """The 408 for a request whose body came slower than the gateway takes."""
    return _raw_response(
        Refusal(
            408,
            "Request Timeout",
            f"the request's body came slower than {min_bytes_per_sec} bytes a second after its "
            f"first {grace_sec:g} s (PYOCO_HTTP_BODY_MIN_BYTES_PER_SEC); send the whole body "
            "without pausing",
            "body_too_slow",
        )
    )


class OneWriteProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol whose request cycles write through a `CorkedTransport`.

    It also bounds what a connection may make the gateway hold before any of the application
    runs; uvicorn bounded none of it:

    - **Time.** A connection that never sends a byte, or stops halfway through a request's
      headers, was held for good (a few KiB and a file descriptor each), so a client opening
      them by the thousand (slowloris) could use up the gateway's descriptors. A new connection
      now waits for its first byte as an idle one waits after a response (uvicorn's keep-alive
      timer, cancelled by any byte), and headers still incomplete after a read get a deadline
      counted from that read, not renewed by later bytes. Both are `header_timeout_sec`.
    - **Headers.** 64 MiB of headers were read into memory and the request served (the
      gateway's RSS grew by 55 MiB, and kept it). Headers still incomplete once the reads after
      the one that began them bring more than `MAX_HEAD_BYTES` are answered 431
      (`headers_too_large`) and the connection closed.
    - **Pipelining.** uvicorn parses a whole read ahead, queueing each request it finds behind
      the one running, about 2 KiB each: 20 connections that sent 8,000 small requests each
      without reading the answers held 310 MiB of the gateway's. A read that leaves more than
      `MAX_PIPELINED` requests waiting closes the connection (`_drop_pipeline`), so what one
      read queued is all such a client can make the gateway hold, and only until the read ends.

    - **Bodies.** A request whose body stopped coming, or came a byte at a time, was held for
      good, however its answer went: the application waits for the rest, and once it answered
      early (a 401, a 404) uvicorn reads the rest to discard it, each read cancelling its
      keep-alive timer. A body still incomplete after a read must come at
      `body_min_bytes_per_sec` on average once `header_timeout_sec` have passed since that
      read; else the request is answered 408 (`body_too_slow`) if it was not answered yet, and
      the connection closed (`_check_body`). While uvicorn stops reading because the
      application has not taken what came, the count starts again: that wait is not the
      client's. A wheel upload on a slow link is still served: 1 KiB a second is 8 kbit/s.

    Everything is checked once per read, after uvicorn's parser has taken it: a request read
    whole, as nearly all are, costs one function call more than uvicorn's own protocol, and
    sets no timer.
    """

    header_timeout_sec = 30.0
    """PYOCO_HTTP_HEADER_TIMEOUT_SEC, set by the app factory (app.py) in each process."""
    body_min_bytes_per_sec = 1024
    """PYOCO_HTTP_BODY_MIN_BYTES_PER_SEC, set by the app factory (app.py) in each process."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set the connection up as uvicorn does, then write to it through a `CorkedTransport`."""
        super().connection_made(transport)
        self.transport = CorkedTransport(transport, self.loop)  # type: ignore[assignment]
        self._head_scope: object = None
        self._head_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_cycle: Any = None  # uvicorn's RequestResponseCycle
        self._body_since = 0.0
        self._body_bytes = 0
        self._body_timer: asyncio.TimerHandle | None = None
        self.timeout_keep_alive_task = self.loop.call_later(
            self.header_timeout_sec, self.timeout_keep_alive_handler
        )

    def data_received(self, data: bytes) -> None:
        """Read as uvicorn does, then bound what the read left waiting (the class docstring).

        A request whose head is being read has a scope (uvicorn makes one as a request
        begins) that no request cycle has yet (it makes the cycle once the headers are in).
        The read in which a head begins may hold other requests before it: it is not counted.
        """
        _read(self, data)
        if len(self.pipeline) > MAX_PIPELINED:
            self._drop_pipeline()
            return
        scope, cycle = self.scope, self.cycle
        if scope is None or (cycle is not None and cycle.scope is scope):
            if self._header_timer is not None:  # the headers it waited for are in
                self._cancel_header_timer()
            if cycle is not None and cycle.more_body:  # a body still to come
                self._body_read(cycle, len(data))
            return
        if scope is not self._head_scope:
            self._head_scope = scope
            self._head_bytes = 0
            self._cancel_header_timer()
        else:
            self._head_bytes += len(data)
        if self.transport.get_protocol() is not self:  # upgraded (a WebSocket): not ours
            return
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse_head()
        elif self._header_timer is None:
            self._header_timer = self.loop.call_later(
                self.header_timeout_sec, self.timeout_keep_alive_handler
            )

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadlines, then end the connection as uvicorn does.

        uvicorn cancels its own timer only for a connection closed cleanly, not a reset one.
        """
        self._cancel_header_timer()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._unset_keepalive_if_required()
        super().connection_lost(exc)

    def _body_read(self, cycle: Any, size: int) -> None:
        """Count a read of `cycle`'s body; the read that began it starts the count."""
        if cycle is self._body_cycle:
            self._body_bytes += size
            return
        self._body_cycle = cycle
        self._body_since = self.loop.time()
        self._body_bytes = 0
        if self._body_timer is None:
            self._body_timer = self.loop.call_at(
                self._body_since + self.header_timeout_sec, self._check_body
            )

    def _check_body(self) -> None:
        """Close the connection if the body in progress is behind its pace (the class docstring).

        Else look again when it would be behind.
        """
        self._body_timer = None
        cycle = self._body_cycle
        if cycle is not self.cycle or not cycle.more_body or self.transport.is_closing():
            return  # that body is in, or the connection going
        now = self.loop.time()
        if self.flow.read_paused:  # uvicorn waits for the application: not the client's pace
            self._body_since, self._body_bytes = now, 0
        due = self._body_since + self.header_timeout_sec
        due += self._body_bytes / self.body_min_bytes_per_sec
        if now < due:
            self._body_timer = self.loop.call_at(due, self._check_body)
            return
        if not cycle.response_started:
            self.transport.write(
                _body_too_slow(self.header_timeout_sec, self.body_min_bytes_per_sec)
            )
        self.transport.close()

    def _drop_pipeline(self) -> None:
        """Close a connection that sent too many requests ahead of their responses.

        The requests read from it and not started are forgotten; the one running ends, its
        response going nowhere. A client may send the unanswered requests again on a new
        connection, as HTTP/1.1 has pipelining clients do when a connection closes.
        """
        self.pipeline.clear()
        self._cancel_header_timer()
        self.transport.close()

    def _refuse_head(self) -> None:
        """Answer 431 and close: the request's line and headers are over `MAX_HEAD_BYTES`."""
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self.transport.write(_HEAD_TOO_LARGE)
            self.transport.close()

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None


_read = HttpToolsProtocol.data_received
"""uvicorn's reading of a connection's bytes (called directly: cheaper than `super()`)."""
