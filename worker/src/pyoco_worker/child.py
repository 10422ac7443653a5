"""The run process: a warm child of the worker that executes one run at a time.

Protocol over a duplex `multiprocessing` pipe (pickled tuples):

- worker → child: ``("run", job)`` execute this job (the child is idle);
  ``("cancel", run_id)`` ask pyoco to stop the run cooperatively.
- child → worker: ``("ready",)`` started; ``("progress", progress)`` task states changed (at
  most one per flush interval); ``("done", outcome)`` the run ended, the child is idle again.

Besides the pipe, the child keeps its run's task states in a small shared-memory buffer
(``name=STATE;...``), written on every pyoco event at the cost of a memory copy. It is read
only when the child dies mid-run, to say which task was running when it did.

The child starts a session of its own (so the worker can signal the run and any process its
tasks started as one group) and asks Linux to kill it if the worker dies, so no run outlives its
worker. A reader thread takes control messages while the main thread runs pyoco, and sends
coalesced progress; both threads send through one lock.
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from pyoco_server.messages import Job
from pyoco_worker.execution import JobExecution
from pyoco_worker.flows import FlowSource, load_resolver

_PR_SET_PDEATHSIG = 1


def child_main(
    conn: Connection, states: Any, resolver_spec: str | None, flush_interval: float
) -> None:
    """Entry point of a run process (`states`: the shared task-state buffer)."""
    _detach_from_worker()
    flows = FlowSource(load_resolver(resolver_spec) if resolver_spec else None)
    channel = _Channel(conn, states, flush_interval)
    jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
    threading.Thread(
        target=channel.read, args=(jobs,), name="pyoco-child-reader", daemon=True
    ).start()
    channel.send(("ready",))
    while (job := jobs.get()) is not None:
        execution = JobExecution(flows, job, channel.mark_changed)
        channel.begin(execution)
        outcome = execution.run()
        channel.end()
        channel.send(("done", outcome))


def _detach_from_worker() -> None:
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides what a Ctrl-C means
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: a killed worker leaves its run to finish on its own
    if os.getppid() == 1:
        os._exit(0)  # the worker died before we could ask to follow it


class _Channel:
    """The child's end of the pipe: sends under a lock, reads control messages in a thread."""

    def __init__(self, conn: Connection, states: Any, flush_interval: float) -> None:
        self._conn = conn
        self._states = states
        self._flush_interval = flush_interval
        self._lock = threading.Lock()
        self._execution: JobExecution | None = None
        self._active = False  # set by the reader on "run", cleared by the main thread at the end
        self._cancel_requested = False
        self._dirty = False
        self._last_sent = 0.0

    def send(self, message: tuple[object, ...]) -> None:
        with self._lock:
            self._conn.send(message)

    def begin(self, execution: JobExecution) -> None:
        self._execution = execution
        if self._cancel_requested:
            execution.cancel()  # the cancel came before the run started

    def end(self) -> None:
        self._execution = None
        self._states.value = b""
        self._cancel_requested = False
        self._dirty = False
        self._active = False

    def mark_changed(self) -> None:
        """From pyoco's threads: task states changed; the reader thread sends them shortly."""
        self._dirty = True
        execution = self._execution
        if execution is not None:
            with self._lock:
                self._states.value = encode_states(execution.task_states(), len(self._states))

    def read(self, jobs: queue.SimpleQueue[Job | None]) -> None:
        """Reader thread: jobs to the main thread, cancels to the execution, progress out."""
        try:
            while True:
                if self._conn.poll(self._flush_interval if self._active else None):
                    self._handle(self._conn.recv(), jobs)
                self._flush()
        except (EOFError, OSError):
            jobs.put(None)  # the worker went away: stop after the current run

    def _handle(self, message: tuple[object, ...], jobs: queue.SimpleQueue[Job | None]) -> None:
        kind = message[0]
        if kind == "run":
            job = message[1]
            assert isinstance(job, Job)
            self._last_sent = time.monotonic()
            self._active = True
            jobs.put(job)
        elif kind == "cancel" and self._active:
            self._cancel_requested = True
            execution = self._execution
            if execution is not None:
                execution.cancel()

    def _flush(self) -> None:
        execution = self._execution
        if not self._dirty or execution is None:
            return
        if time.monotonic() - self._last_sent < self._flush_interval:
            return
        self._dirty = False
        self._last_sent = time.monotonic()
        self.send(("progress", execution.progress()))


def encode_states(states: dict[str, str], capacity: int) -> bytes:
    """`name=STATE;...` as bytes, cut at an entry boundary to fit `capacity` (with its NUL)."""
    encoded = b""
    for name, state in states.items():
        entry = f"{name}={state};".encode()
        if len(encoded) + len(entry) >= capacity:
            break
        encoded += entry
    return encoded


def decode_states(raw: bytes) -> dict[str, str]:
    """The task states written by `encode_states`."""
    pairs = (entry.partition("=") for entry in raw.decode(errors="replace").split(";") if entry)
    return {name: state for name, _, state in pairs}
