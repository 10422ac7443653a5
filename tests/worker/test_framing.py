"""Frames on a run process's pipes (framing.py), under asyncio and uvloop: a message of any size
arrives whole and in order, whatever the pipe takes at a time; only the end of the stream means
the other side is gone; what a run process sends is JSON, checked on arrival (protocol.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable, Coroutine
from multiprocessing.connection import Connection
from typing import Any

import pytest
import uvloop

from pyoco_server.domain.snapshot import FailureReason, RunStatus, TaskRecord, TaskState
from pyoco_worker.execution import Outcome, Progress
from pyoco_worker.framing import FrameReader, FrameWriter, frame
from pyoco_worker.protocol import (
    Finished,
    ProgressReport,
    ProtocolError,
    Ready,
    decode_from_child,
    encode_from_child,
)

LOOPS: dict[str, Callable[[Coroutine[Any, Any, Any]], Any]] = {
    "asyncio": asyncio.run,
    "uvloop": uvloop.run,
}

SIZES = [0, 1, 4095, 65_536, 1_000_000, 3 * 1024 * 1024]


def pair() -> tuple[socket.socket, socket.socket]:
    """A socketpair with small buffers, so big frames need many reads and writes."""
    ours, theirs = socket.socketpair()
    for end in (ours, theirs):
        end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return ours, theirs


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_frames_of_any_size_arrive_whole_and_in_order(loop: str) -> None:
    """The other side writes with a blocking `Connection`, as a run process does."""
    ours, theirs = pair()
    payloads = [os.urandom(size) for size in SIZES]
    sender = Connection(theirs.detach())

    async def main() -> tuple[list[bytes], str | None]:
        received: list[bytes] = []
        closed: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        reader = FrameReader(ours.fileno(), received.append, closed.set_result, 64 * 1024 * 1024)
        reader.start()

        def send_all() -> None:
            for payload in payloads:
                sender.send_bytes(payload)
            sender.close()

        threading.Thread(target=send_all).start()
        reason = await asyncio.wait_for(closed, 30)
        return received, reason

    received, reason = LOOPS[loop](main())
    ours.close()
    assert [len(payload) for payload in received] == SIZES
    assert received == payloads
    assert reason is None  # a plain end of stream


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_the_writer_sends_big_frames_without_blocking_the_loop(loop: str) -> None:
    """The other side reads with a blocking `Connection`, slowly, in a thread."""
    ours, theirs = pair()
    payloads = [os.urandom(size) for size in SIZES]
    receiver = Connection(theirs.detach())
    received: list[bytes] = []

    def read_all() -> None:
        for _ in payloads:
            received.append(receiver.recv_bytes())

    async def main() -> int:
        writer = FrameWriter(ours.fileno(), lambda error: pytest.fail(str(error)))
        writer.start()
        for payload in payloads:
            writer.send(payload)  # returns at once: the pipe takes 4 KiB at a time
        ticks = 0
        reading = threading.Thread(target=read_all)
        reading.start()
        while reading.is_alive():  # the loop keeps running while the frames drain
            ticks += 1
            await asyncio.sleep(0.001)
        return ticks

    ticks = LOOPS[loop](main())
    ours.close()
    assert received == payloads
    assert ticks > 0


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_a_small_message_takes_one_read(loop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read shorter than asked for emptied the pipe: no second read just to hear it is empty."""
    ours, theirs = socket.socketpair()
    reads: list[int] = []
    real_read = os.read

    def counted(fd: int, size: int) -> bytes:
        reads.append(fd)
        return real_read(fd, size)

    monkeypatch.setattr("pyoco_worker.framing.os.read", counted)

    async def main() -> list[bytes]:
        received: list[bytes] = []
        arrived = asyncio.Event()
        reader = FrameReader(
            ours.fileno(), lambda p: (received.append(p), arrived.set()), print, 1 << 20
        )
        reader.start()
        for message in (b"first", b"second"):
            arrived.clear()
            theirs.sendall(frame(message))
            await asyncio.wait_for(arrived.wait(), 10)
        reader.stop()
        return received

    assert LOOPS[loop](main()) == [b"first", b"second"]
    assert len(reads) == 2
    ours.close()
    theirs.close()


def test_a_frame_over_the_limit_closes_the_stream_with_a_reason() -> None:
    ours, theirs = pair()

    async def main() -> tuple[list[bytes], str | None]:
        received: list[bytes] = []
        closed: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        FrameReader(ours.fileno(), received.append, closed.set_result, 1000).start()
        theirs.sendall(frame(b"ok") + frame(b"x" * 1001) + frame(b"never read"))
        return received, await asyncio.wait_for(closed, 10)

    received, reason = asyncio.run(main())
    assert received == [b"ok"]
    assert reason is not None
    assert "1001 bytes" in reason


def test_a_failed_write_is_reported_once() -> None:
    ours, theirs = pair()
    theirs.close()
    failures: list[OSError] = []

    async def main() -> None:
        writer = FrameWriter(ours.fileno(), failures.append)
        writer.start()
        writer.send(b"x" * 100_000)
        writer.send(b"y")

    asyncio.run(main())
    assert len(failures) == 1
    assert isinstance(failures[0], BrokenPipeError)


RECORD = TaskRecord(
    TaskState.FAILED,
    started_at=1.0,
    ended_at=2.0,
    duration_ms=1000.0,
    error="boom",
    traceback="Traceback...",
    inputs={"x": [1, {"y": None}]},
    output=None,
)


@pytest.mark.parametrize(
    "message",
    [
        Ready(),
        ProgressReport("run-1", Progress({"a": TaskState.RUNNING}, {"a": RECORD})),
        Finished(
            Outcome(
                RunStatus.FAILED,
                {"a": TaskState.FAILED},
                {"a": RECORD},
                "ValueError: boom",
                FailureReason.EXECUTION_ERROR,
            )
        ),
        Finished(Outcome(RunStatus.COMPLETED, {}, {})),
    ],
    ids=["ready", "progress", "finished-failed", "finished-completed"],
)
def test_run_process_messages_round_trip_as_json(message: object) -> None:
    raw = encode_from_child(message)  # type: ignore[arg-type]
    assert raw.startswith(b"{")
    assert decode_from_child(raw) == message


@pytest.mark.parametrize(
    "raw",
    [
        b"\x80\x04K\x01.",  # a pickle: never unpickled
        b"not json",
        b"[]",
        b'{"type": "shutdown"}',
        b'{"type": "finished", "status": "DONE", "tasks": {}, "records": {}}',
        b'{"type": "progress", "run_id": 5, "tasks": {}, "records": {}}',
        b'{"type": "progress", "run_id": "r", "tasks": {"a": "RUNNING"}, "records": {"a": {"state": "RUNNING", "started_at": "soon"}}}',
        b'{"type": "progress", "run_id": "r", "tasks": [], "records": {}}',
        b'{"type": "finished", "status": "FAILED", "tasks": {}, "records": {}, "error": 3}',
        b'{"type": "progress", "run_id": "r", "tasks": {}, "records": {"a": {"state": "DONE", "ended_at": 1e999999}}}',
    ],
)
def test_anything_else_a_run_process_sends_is_a_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_from_child(raw)
