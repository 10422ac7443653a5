"""Length-prefixed frames on a run process's pipes, read and written without blocking the loop.

A frame is what `multiprocessing.connection.Connection.send_bytes` writes and `recv_bytes`
reads: a 4-byte big-endian signed length (-1 followed by an 8-byte length for frames of 2 GiB
or more), then the payload. The run process keeps its ordinary blocking `Connection`; the worker
reads and writes the same frames on non-blocking descriptors through its event loop. A frame of
any size therefore arrives whole and in order under asyncio and uvloop alike (a blocking `recv`
on a descriptor the loop had made non-blocking took a large message half-read for a dead
process), and only the end of the stream, or an error on the descriptor, says the process is
gone.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

log = logging.getLogger(__name__)

_READ_CHUNK = 256 * 1024
_WRITE_CHUNK = 1024 * 1024
_LONG = 0x7FFFFFFF
"""Frames longer than this carry an 8-byte length (after a -1)."""


def frame(payload: bytes) -> bytes:
    """`payload` with the length prefix `Connection.recv_bytes` expects."""
    size = len(payload)
    if size > _LONG:
        return (-1).to_bytes(4, "big", signed=True) + size.to_bytes(8, "big") + payload
    return size.to_bytes(4, "big", signed=True) + payload


class FrameReader:
    """Reads frames from `fd` on the running loop and hands each whole payload to `on_frame`.

    `on_closed(reason)` is called once when the stream ends: `None` for an end of file, else
    why it was given up (an error on the descriptor, or a frame over `max_frame` bytes, which
    only a process that breaks the protocol sends).
    """

    def __init__(
        self,
        fd: int,
        on_frame: Callable[[bytes], None],
        on_closed: Callable[[str | None], None],
        max_frame: int,
    ) -> None:
        self._fd = fd
        self._on_frame = on_frame
        self._on_closed = on_closed
        self._max_frame = max_frame
        self._buffer = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start reading (the descriptor is made non-blocking)."""
        os.set_blocking(self._fd, False)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._fd, self._readable)

    def stop(self) -> None:
        """Stop reading; nothing more is delivered."""
        if self._loop is not None:
            self._loop.remove_reader(self._fd)
            self._loop = None

    def finish(self) -> None:
        """The writer has ended: deliver the frames the pipe holds now, then end the stream.

        `on_closed(None)`, as at the end of the file, which never comes while another process
        still holds the pipe open.
        """
        if self._loop is None:
            return
        self._readable()
        if self._loop is not None:
            self._close(None)

    def _readable(self) -> None:
        while self._loop is not None:
            try:
                chunk = os.read(self._fd, _READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._close(f"reading the pipe failed: {exc}")
                return
            if not chunk:
                self._close(None)
                return
            self._buffer += chunk
            if not self._deliver():
                return
            if len(chunk) < _READ_CHUNK:
                break  # the pipe is empty: the loop calls again when more comes

    def _deliver(self) -> bool:
        """Hand over every whole frame in the buffer; False once the stream is given up."""
        buffer = self._buffer
        while self._loop is not None and len(buffer) >= 4:
            size = int.from_bytes(buffer[:4], "big", signed=True)
            header = 4
            if size == -1:
                if len(buffer) < 12:
                    break
                size = int.from_bytes(buffer[4:12], "big")
                header = 12
            if size < 0 or size > self._max_frame:
                self._close(f"a message of {size} bytes, over the limit of {self._max_frame}")
                return False
            if len(buffer) < header + size:
                break
            payload = bytes(buffer[header : header + size])
            del buffer[: header + size]
            self._on_frame(payload)
        return self._loop is not None

    def _close(self, reason: str | None) -> None:
        self.stop()
        self._buffer.clear()
        self._on_closed(reason)


class FrameWriter:
    """Writes frames to `fd` without blocking: what the pipe does not take now waits for it.

    `on_failed(error)` is called once if the descriptor fails (the process is gone); later
    frames are dropped.
    """

    def __init__(self, fd: int, on_failed: Callable[[OSError], None]) -> None:
        self._fd = fd
        self._on_failed = on_failed
        self._pending = bytearray()
        self._failed = False
        self._watching = False
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def pending(self) -> int:
        """Bytes written but not yet taken by the pipe."""
        return len(self._pending)

    def start(self) -> None:
        """Get ready to write (the descriptor is made non-blocking)."""
        os.set_blocking(self._fd, False)
        self._loop = asyncio.get_running_loop()

    def send(self, payload: bytes) -> None:
        """Queue one frame and write as much as the pipe takes now."""
        if self._failed or self._loop is None:
            return
        self._pending += frame(payload)
        if not self._watching:
            self._flush()

    def stop(self) -> None:
        """Stop writing; what was not written is dropped."""
        if self._watching and self._loop is not None:
            self._loop.remove_writer(self._fd)
        self._watching = False
        self._loop = None
        self._pending.clear()

    def _flush(self) -> None:
        while self._pending:
            try:
                written = os.write(self._fd, memoryview(self._pending)[:_WRITE_CHUNK])
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._fail(exc)
                return
            del self._pending[:written]
        if self._pending and not self._watching and self._loop is not None:
            self._loop.add_writer(self._fd, self._flush)
            self._watching = True
        elif not self._pending and self._watching and self._loop is not None:
            self._loop.remove_writer(self._fd)
            self._watching = False

    def _fail(self, error: OSError) -> None:
        self._failed = True
        self.stop()
        log.debug("writing to a run process failed: %s", error)
        self._on_failed(error)
