"""The run process: a warm child of the worker that executes one run at a time.

Two pipes connect it to the worker, carrying the typed messages of protocol.py:

- the job pipe, read by the child's main thread: worker → child `RunJob`; child → worker
  `Ready` once started, `ProgressReport` when asked, `LogBatch`es of what the run's tasks
  print and log (capture.py), `Finished` when the run ended;
- the control pipe, read by a helper thread while pyoco runs: `Cancel` asks pyoco to stop the
  run; `ProgressRequest` asks for the task states if they changed.

The worker asks for progress only while a run lasts longer than the flush interval, so a short
run costs one message each way. The child also keeps its run's task states in a small
shared-memory buffer (``name=STATE;...``), written on every pyoco event at the cost of a memory
copy and read by the worker only if the child dies mid-run, to name the task that was running.
It records the task files it imports and tells the worker (`Imported`, before `Finished`), which
replaces it once they changed, or pins their versions (taskfiles.py, freshness.py).

The child starts a session of its own (so the worker can signal the run and every process its
tasks started, as one group, and a signal to the worker's group does not reach it), takes stop
signals meant for everyone without dying (the worker decides), and asks Linux to kill it when its
fork server dies; the fork server dies with the worker (forkserver.py), so no run outlives its
worker. Processes a run's tasks leave running are killed when the run ends (leftovers.py).
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pyoco.core.models import Flow

from pyoco_server import heap
from pyoco_server.domain.snapshot import FailureReason, RunStatus
from pyoco_server.domain.trust import TaskPolicy
from pyoco_worker import forkserver, leftovers, sandbox, taskfiles, threads
from pyoco_worker.capture import OutputCapture
from pyoco_worker.engine import JobExecution
from pyoco_worker.execution import Installed, Outcome
from pyoco_worker.flows import FlowResolver, FlowSource, ResolverError, load_resolver
from pyoco_worker.jsonable import MAX_VALUE_BYTES
from pyoco_worker.protocol import (
    Cancel,
    Control,
    Finished,
    FromChild,
    Imported,
    ProgressReport,
    ProgressRequest,
    Ready,
    RunJob,
    encode_from_child,
)

LEASE_CHECK_SEC = 0.1
"""How often a run process checks its lease."""


@dataclasses.dataclass(frozen=True, slots=True)
class ChildConfig:
    """What every run process of a worker is started with."""

    resolver_spec: str | None = None
    policy: TaskPolicy = dataclasses.field(default_factory=TaskPolicy)
    exposable: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Variables a flow.yaml may expose to its run (the operator's `PYOCO_TASK_ENV`)."""
    run_as_user: str = ""
    workdir: str = "."
    log_max_bytes: int = 1024 * 1024
    """What a run's tasks may print and log (PYOCO_RUN_LOG_MAX_BYTES; see capture.py)."""
    memory_max_bytes: int = 0
    """The data memory the process may map (PYOCO_RUN_MEMORY_MAX_BYTES; 0: no limit)."""
    max_value_bytes: int = MAX_VALUE_BYTES
    """A task output or input kept in a record at most (PYOCO_MAX_RUN_SNAPSHOT_BYTES)."""
    log_echo: bool = False
    """Also write each captured line to the worker's stderr, prefixed with the run id."""
    reload: bool = False
    """Whether the worker replaces processes whose task files changed (see freshness.py)."""


def child_main(
    jobs: Connection, control: Connection, states: Any, lease: Any, config: ChildConfig
) -> None:
    """Entry point of a run process."""
    _detach_from_worker()
    leftovers.adopt_orphans()
    sandbox.limit_memory(config.memory_max_bytes)
    if config.run_as_user and os.geteuid() == 0:
        sandbox.become(config.run_as_user, Path(config.workdir))
    else:
        os.chdir(config.workdir)
    threads.share_task_threads()
    imports = taskfiles.recorder(keep_sources=not config.reload)
    flows = FlowSource(_resolver(config.resolver_spec, imports), config.policy)
    channel = _Channel(jobs, states)
    threading.Thread(
        target=_listen, args=(control, channel), name="pyoco-child-control", daemon=True
    ).start()
    threading.Thread(
        target=_watch_lease, args=(lease, channel), name="pyoco-child-lease", daemon=True
    ).start()
    capture = OutputCapture(
        channel.send, config.log_max_bytes, sys.stderr if config.log_echo else None
    )
    capture.install()
    heap.settle_after_startup(collect=False)  # forked: its pages are shared with the fork server
    channel.send(Ready())
    _report_imports(channel, imports)
    code = _Code()
    baseline = sandbox.Baseline()
    while (message := _next_job(jobs)) is not None:
        job = message.job
        imports.ignore(message.installed.paths)
        imports.pin(message.pins)
        execution = JobExecution(
            flows,
            job,
            channel.mark_changed,
            message.installed,
            environment=lambda names: sandbox.exposed(config.exposable, names),
            tasks=capture,
            max_value_bytes=config.max_value_bytes,
        )
        channel.begin(job.run_id, execution)
        capture.begin(job.run_id)
        outcome = code.use(message.installed) or execution.run()
        leftovers.stop_left_running()  # before the run's end is told: none outlives it
        baseline.restore()
        capture.end()  # the run's last lines go before its end
        channel.end()
        _report_imports(channel, imports)
        channel.send(Finished(outcome))


def _resolver(spec: str | None, imports: taskfiles.ImportRecorder) -> FlowResolver | None:
    """The flow resolver: the fork server's (reload off), else loaded from disk now.

    One that cannot be loaded (its file is being edited) fails each run that needs it, as
    `flow_not_found` with the reason, rather than the process: with reload on, a fixed file
    then replaces the process.
    """
    if not spec:
        return None
    preloaded = forkserver.preloaded_resolver(spec)
    if preloaded is not None:
        return preloaded
    imports.record_resolver(spec)
    try:
        return load_resolver(spec)
    except ResolverError as exc:
        reason = str(exc)

        def unavailable(_flow_name: str) -> Flow:
            raise KeyError(reason)

        return unavailable


def _report_imports(channel: _Channel, imports: taskfiles.ImportRecorder) -> None:
    """Tell the worker which task files this process loaded since it last said."""
    files = imports.take()
    if files:
        channel.send(Imported(files))


class _Code:
    """The registry wheels on this process's `sys.path`: one set for the process's life."""

    def __init__(self) -> None:
        self.key: tuple[str, ...] = ()

    def use(self, installed: Installed) -> Outcome | None:
        """Put `installed` on `sys.path` (first use); a refusal when other wheels are there."""
        if not installed.key or installed.key == self.key:
            return None
        if self.key:  # the pool never sends this; refuse rather than mix two versions' modules
            return Outcome(
                RunStatus.FAILED,
                {},
                {},
                "code_unavailable: this run process already runs other wheel versions",
                FailureReason.CODE_UNAVAILABLE,
            )
        sys.path[0:0] = installed.paths
        importlib.invalidate_caches()
        self.key = installed.key
        return None


def _next_job(jobs: Connection) -> RunJob | None:
    """The next job, or None once the worker closed the pipe."""
    try:
        message = jobs.recv()
    except (EOFError, OSError):
        return None
    if not isinstance(message, RunJob):
        raise ValueError(f"run process got {message!r} on the job pipe")
    return message


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


def _watch_lease(lease: Any, channel: _Channel) -> None:
    """Stop the run (this process and its tasks' processes) once the worker's lease runs out.

    The worker renews the lease while it can tell NATS the run is alive; when it stops (frozen by
    SIGSTOP, swapped out, cut off), the job is delivered again after AckWait, and this run must be
    gone before another worker starts it. The lease ends early enough for that (worker.py).
    """
    while True:
        time.sleep(LEASE_CHECK_SEC)
        until = lease[0]
        if until and channel.running and time.monotonic() > until:
            lease[1] = 1.0
            os.killpg(os.getpgrp(), signal.SIGKILL)


def _detach_from_worker() -> None:
    os.setsid()
    # The worker decides what a stop signal sent to everyone (Ctrl-C, systemd) means.
    forkserver.ignore_group_stops()
    parent = os.getppid()
    sandbox.die_with_parent()  # not Linux: a killed worker leaves its run to finish on its own
    if os.getppid() != parent or parent == 1:
        os._exit(0)  # the fork server died before we could ask to follow it


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
        self._record = _StatesRecord(len(states))

    @property
    def running(self) -> bool:
        """Whether a run is executing."""
        return self._run_id is not None

    def send(self, message: FromChild) -> None:
        payload = _encoded(message)
        with self._lock:
            self._jobs.send_bytes(payload)

    def begin(self, run_id: str, execution: JobExecution) -> None:
        with self._lock:
            self._run_id = run_id
            self._execution = execution
            self._record = _StatesRecord(len(self._states))
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

    def mark_changed(self, task: str | None = None) -> None:
        """From pyoco's threads: note a change of `task` (None: of the run); record the states.

        The states go to the shared buffer the worker reads if this process dies.
        """
        with self._lock:
            self._dirty = True
            if self._execution is not None:
                self._states.value = self._record.changed(self._execution.task_states, task)

    def send_progress(self, run_id: str) -> None:
        # Read and sent under the lock, so that it cannot follow the run's ("done", ...).
        with self._lock:
            if self._execution is None or self._run_id != run_id or not self._dirty:
                return
            self._dirty = False
            try:
                payload = _encoded(ProgressReport(run_id, self._execution.progress()))
            except (TypeError, ValueError):
                return  # the outcome carries the same records, converted or explained
            self._jobs.send_bytes(payload)


def _encoded(message: FromChild) -> bytes:
    """The message as the worker reads it; an outcome that JSON cannot carry fails the run."""
    try:
        return encode_from_child(message)
    except (TypeError, ValueError) as exc:
        if not isinstance(message, Finished):
            raise
        failed = Outcome(
            RunStatus.FAILED,
            message.outcome.tasks,
            {},
            f"the run's outcome could not be sent to the worker: {exc}",
            FailureReason.EXECUTION_ERROR,
        )
        return encode_from_child(Finished(failed))


class _StatesRecord:
    """A run's task states as the shared buffer holds them, brought up to date at each change.

    A change of the run (its start and end) reads every task. A task's own change reads that
    task and the tasks not seen ended since their own changes (pyoco sets a task's end state just
    after telling its end, so the next change picks it up). So a change costs the tasks in flight,
    not all of the run's: reading all 50 tasks of a 50-task run at each of its hundred changes
    was a third of that run's CPU. States pyoco sets without telling (tasks it cancels or fails
    without running them) are read at the run's end, or at the next change of those tasks.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: dict[str, bytes] = {}
        self._in_flight: set[str] = set()

    def changed(
        self, states_of: Callable[[Iterable[str] | None], Mapping[str, Any]], task: str | None
    ) -> bytes:
        """The buffer's new contents after a change of `task` (None: of the run)."""
        entries, in_flight = self._entries, self._in_flight
        if task is None:
            entries.clear()
            in_flight.clear()
            states = states_of(None)
        else:
            states = states_of(in_flight | {task})
        for name, state in states.items():
            text = _text(state)
            entries[name] = f"{name}={text};".encode()
            if text == "RUNNING" or (text == "PENDING" and task is not None):
                in_flight.add(name)
            else:
                in_flight.discard(name)
        return _joined(list(entries.values()), self._capacity)


def _joined(entries: list[bytes], capacity: int) -> bytes:
    """`entries` joined, the longest prefix of them that fits `capacity` (with its NUL)."""
    encoded = b"".join(entries)
    if len(encoded) < capacity:
        return encoded
    size = 0
    for count, entry in enumerate(entries):
        if size + len(entry) >= capacity:
            return b"".join(entries[:count])
        size += len(entry)
    return encoded


def _text(state: Any) -> str:
    return str(state._value_ if isinstance(state, enum.Enum) else state)


def decode_states(raw: bytes) -> dict[str, str]:
    """The task states a run process wrote (`_StatesRecord`)."""
    pairs = (entry.partition("=") for entry in raw.decode(errors="replace").split(";") if entry)
    return {name: state for name, _, state in pairs}
