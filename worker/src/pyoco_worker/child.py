"""The run process: a warm child of the worker that executes one run at a time.

Two pipes connect it to the worker, carrying the typed messages of protocol.py:

- the job pipe, read by the child's main thread: worker → child `RunJob`; child → worker
  `Ready` once started, `ProgressReport` when asked, `Finished` when the run ended;
- the control pipe, read by a helper thread while pyoco runs: `Cancel` asks pyoco to stop the
  run; `ProgressRequest` asks for the task states if they changed.

The worker asks for progress only while a run lasts longer than the flush interval, so a short
run costs one message each way. The child also keeps its run's task states in a small
shared-memory buffer (``name=STATE;...``), written on every pyoco event at the cost of a memory
copy and read by the worker only if the child dies mid-run, to name the task that was running.

The child starts a session of its own (so the worker can signal the run and every process its
tasks started, as one group) and asks Linux to kill it when the worker dies, so no run outlives
its worker.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
from multiprocessing.connection import Connection
from typing import Any

from pyoco_server.domain.records import Job
from pyoco_worker import threads
from pyoco_worker.engine import JobExecution
from pyoco_worker.flows import FlowSource, load_resolver
from pyoco_worker.protocol import (
    Cancel,
    Control,
    Finished,
    FromChild,
    ProgressReport,
    ProgressRequest,
    Ready,
    RunJob,
)

_PR_SET_PDEATHSIG = 1


def child_main(
    jobs: Connection, control: Connection, states: Any, resolver_spec: str | None
) -> None:
    """Entry point of a run process."""
    _detach_from_worker()
    threads.share_task_threads()
    flows = FlowSource(load_resolver(resolver_spec) if resolver_spec else None)
    channel = _Channel(jobs, states)
    threading.Thread(
        target=_listen, args=(control, channel), name="pyoco-child-control", daemon=True
    ).start()
    channel.send(Ready())
    while (job := _next_job(jobs)) is not None:
        execution = JobExecution(flows, job, channel.mark_changed)
        channel.begin(job.run_id, execution)
        outcome = execution.run()
        channel.end()
        channel.send(Finished(outcome))


def _next_job(jobs: Connection) -> Job | None:
    """The next job, or None once the worker closed the pipe."""
    try:
        message = jobs.recv()
    except (EOFError, OSError):
        return None
    if not isinstance(message, RunJob):
        raise ValueError(f"run process got {message!r} on the job pipe")
    return message.job


def _listen(control: Connection, channel: _Channel) -> None:
    """Control thread: cancels and progress requests, until the worker closes the pipe."""
    while True:
        try:
            message: Control = control.recv()
        except (EOFError, OSError):
            return
        match message:
            case Cancel(run_id=run_id):
                channel.cancel(run_id)
            case ProgressRequest(run_id=run_id):
                channel.send_progress(run_id)


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
    """The child's side: sends under one lock, tracks the current run for the control thread."""

    def __init__(self, jobs: Connection, states: Any) -> None:
        self._jobs = jobs
        self._states = states
        self._lock = threading.Lock()
        self._run_id: str | None = None
        self._execution: JobExecution | None = None
        self._cancelled: str | None = None
        self._dirty = False

    def send(self, message: FromChild) -> None:
        with self._lock:
            self._jobs.send(message)

    def begin(self, run_id: str, execution: JobExecution) -> None:
        with self._lock:
            self._run_id = run_id
            self._execution = execution
            cancelled = self._cancelled == run_id
        if cancelled:
            execution.cancel()  # the cancel came before the run started

    def end(self) -> None:
        with self._lock:
            self._run_id = None
            self._execution = None
            self._cancelled = None
            self._dirty = False
            self._states.value = b""

    def cancel(self, run_id: str) -> None:
        with self._lock:
            self._cancelled = run_id
            execution = self._execution if self._run_id == run_id else None
        if execution is not None:
            execution.cancel()

    def mark_changed(self) -> None:
        """From pyoco's threads: remember the change and record the states for forensics."""
        with self._lock:
            self._dirty = True
            if self._execution is not None:
                self._states.value = encode_states(self._execution.task_states(), len(self._states))

    def send_progress(self, run_id: str) -> None:
        # Read and sent under the lock, so that it cannot follow the run's ("done", ...).
        with self._lock:
            if self._execution is None or self._run_id != run_id or not self._dirty:
                return
            self._dirty = False
            self._jobs.send(ProgressReport(run_id, self._execution.progress()))


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
