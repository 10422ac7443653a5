"""`ProcessPool`: the executor that runs each run in a warm child process (child.py).

Isolation is what makes cancel and timeouts real and crashes harmless: pyoco cannot interrupt a
running task, but the worker can stop the process running it. A stop escalates in three steps:
pyoco's cooperative cancel, then SIGTERM to the child's process group once
PYOCO_CANCEL_GRACE_PERIOD_SEC has passed, then SIGKILL one second later. A child that dies on its
own (`os._exit`, a segfault, the OOM killer) fails only its run; every child that did not end
cleanly is replaced by a fresh one from the fork server, which has pyoco and the flow resolver
already imported.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import dataclasses
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from pyoco_server.errors import RunAbandoned
from pyoco_server.messages import Job
from pyoco_server.snapshot import FailureReason, RunStatus, TaskRecord, TaskState
from pyoco_worker.child import child_main, decode_states
from pyoco_worker.execution import (
    EMPTY_PROGRESS,
    Outcome,
    Progress,
    ProgressCallback,
    RunControl,
    StopReason,
)

log = logging.getLogger(__name__)

KILL_AFTER_SEC = 1.0
"""How long a child gets between SIGTERM and SIGKILL."""

_START_TIMEOUT_SEC = 60.0
_UNFINISHED = (TaskState.PENDING, TaskState.RUNNING)


class ChildGone(Exception):
    """The child process closed its pipe (it exited or was killed)."""


_STATES_BYTES = 16384
"""Size of a child's shared task-state buffer (see child.py)."""


class RunProcess:
    """One warm child process, the worker's end of its pipe and its task-state buffer."""

    def __init__(self, process: BaseProcess, conn: Connection, states: Any) -> None:
        self.process = process
        self.conn = conn
        self.states = states
        self._messages: collections.deque[tuple[Any, ...]] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._gone = False

    @property
    def pid(self) -> int:
        """The child's process id (also its process group id)."""
        assert self.process.pid is not None
        return self.process.pid

    @classmethod
    async def start(
        cls, context: BaseContext, resolver_spec: str | None, flush_interval: float
    ) -> RunProcess:
        """Start a child and wait until it is ready to run."""
        ours, theirs = context.Pipe(duplex=True)
        states = context.RawArray(ctypes.c_char, _STATES_BYTES)
        process = context.Process(  # type: ignore[attr-defined]
            target=child_main,
            args=(theirs, states, resolver_spec, flush_interval),
            name="pyoco-run",
            daemon=True,
        )
        await asyncio.to_thread(process.start)
        theirs.close()
        child = cls(process, ours, states)
        asyncio.get_running_loop().add_reader(ours.fileno(), child._on_readable)
        message = await asyncio.wait_for(child.receive(), _START_TIMEOUT_SEC)
        if message != ("ready",):
            raise RuntimeError(f"run process sent {message!r} instead of ready")
        return child

    def _on_readable(self) -> None:
        try:
            self._messages.append(self.conn.recv())
        except (EOFError, OSError):
            self._gone = True
            asyncio.get_running_loop().remove_reader(self.conn.fileno())
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def receive(self) -> tuple[Any, ...]:
        """The next message from the child; `ChildGone` once it has closed the pipe."""
        while not self._messages:
            if self._gone:
                raise ChildGone
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._messages.popleft()

    def send(self, message: tuple[Any, ...]) -> None:
        """Send a message to the child (ignored once it is gone)."""
        if not self._gone:
            with contextlib.suppress(OSError):
                self.conn.send(message)

    def signal_group(self, signum: int) -> None:
        """Signal the child and every process its tasks started."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    async def exit_code(self, timeout: float = 5.0) -> int | None:
        """Reap the child (waiting up to `timeout`); its exit code, negative for a signal."""
        await asyncio.to_thread(self.process.join, timeout)
        return self.process.exitcode

    def last_task_states(self) -> dict[str, TaskState]:
        """The task states the child last wrote to its shared buffer (read it once it died)."""
        known = {state.value: state for state in TaskState}
        return {
            name: known[state]
            for name, state in decode_states(bytes(self.states.value)).items()
            if state in known
        }

    def close(self) -> None:
        """Drop the pipe; an idle child then exits by itself."""
        if not self._gone:
            self._gone = True
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self.conn.fileno())
        self.conn.close()


@dataclasses.dataclass
class _RunState:
    """What the pool knows about the run in one child."""

    job: Job
    control: RunControl
    inbox: asyncio.Queue[tuple[str, Any]]
    progress: Progress = EMPTY_PROGRESS
    stopping: StopReason | None = None
    handles: list[asyncio.TimerHandle] = dataclasses.field(default_factory=list)


class ProcessPool:
    """Runs up to `size` runs at once, each in its own warm child process."""

    def __init__(
        self,
        size: int,
        *,
        resolver_spec: str | None = None,
        flush_interval: float = 0.05,
        cancel_grace_sec: float = 30.0,
        start_method: str = "forkserver",
    ) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one process")
        self.size = size
        self._resolver_spec = resolver_spec
        self._flush_interval = flush_interval
        self._cancel_grace_sec = cancel_grace_sec
        self._context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            self._context.set_forkserver_preload(_preload(resolver_spec))
        self._idle: asyncio.Queue[RunProcess] = asyncio.Queue()
        self._all: set[RunProcess] = set()
        self._retiring: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start the children (the first also starts the fork server)."""
        first = await self._spawn()
        rest = await asyncio.gather(*(self._spawn() for _ in range(self.size - 1)))
        for child in (first, *rest):
            self._idle.put_nowait(child)
        log.info("started %d run process(es)", self.size)

    async def _spawn(self) -> RunProcess:
        child = await RunProcess.start(self._context, self._resolver_spec, self._flush_interval)
        self._all.add(child)
        return child

    async def execute(
        self, job: Job, on_progress: ProgressCallback, control: RunControl
    ) -> Outcome:
        """Run `job` in an idle child (see the module docstring for stops and crashes).

        Raises:
            RunAbandoned: a shutdown stopped the run; its job should go back to the queue.
        """
        child = await self._idle.get()
        reusable = False
        try:
            outcome, reusable = await self._run(child, job, on_progress, control)
            return outcome
        finally:
            if reusable:
                self._idle.put_nowait(child)
            else:
                # The replacement starts in the background: the run's end is not held up by it.
                task = asyncio.create_task(self._retire(child))
                self._retiring.add(task)
                task.add_done_callback(self._retiring.discard)

    async def _run(
        self, child: RunProcess, job: Job, on_progress: ProgressCallback, control: RunControl
    ) -> tuple[Outcome, bool]:
        state = _RunState(job, control, asyncio.Queue())
        unhook = control.on_stop(lambda reason: state.inbox.put_nowait(("stop", reason)))
        pump = asyncio.create_task(_pump(child, state.inbox))
        loop = asyncio.get_running_loop()
        if control.timeout_sec:
            state.handles.append(
                loop.call_later(control.timeout_sec, control.stop, StopReason.TIMEOUT)
            )
        if control.reason is not None:
            state.inbox.put_nowait(("stop", control.reason))
        child.send(("run", job))
        try:
            return await self._follow(child, state, on_progress)
        finally:
            unhook()
            pump.cancel()
            for handle in state.handles:
                handle.cancel()

    async def _follow(
        self, child: RunProcess, state: _RunState, on_progress: ProgressCallback
    ) -> tuple[Outcome, bool]:
        while True:
            kind, payload = await state.inbox.get()
            if kind == "progress":
                state.progress = payload
                on_progress(payload)
            elif kind == "done":
                return _finished(payload, state), True
            elif kind == "gone":
                return await _died(child, state), False
            elif kind == "stop":
                self._begin_stop(child, state, payload)
            elif kind == "escalate":
                log.warning(
                    "run %s did not stop within the grace period; terminating it", state.job.run_id
                )
                child.signal_group(signal.SIGTERM)
                state.handles.append(
                    asyncio.get_running_loop().call_later(
                        KILL_AFTER_SEC, child.signal_group, signal.SIGKILL
                    )
                )

    def _begin_stop(self, child: RunProcess, state: _RunState, reason: StopReason) -> None:
        if state.stopping is StopReason.SHUTDOWN or state.stopping is reason:
            return
        state.stopping = reason
        if reason is StopReason.SHUTDOWN:
            child.signal_group(signal.SIGKILL)
            return
        child.send(("cancel", state.job.run_id))
        state.handles.append(
            asyncio.get_running_loop().call_later(
                self._cancel_grace_sec, state.inbox.put_nowait, ("escalate", None)
            )
        )

    async def _retire(self, child: RunProcess) -> None:
        """Stop a child that is not idle and clean, and start its replacement."""
        self._all.discard(child)
        child.signal_group(signal.SIGKILL)
        child.close()
        await child.exit_code()
        while True:
            try:
                self._idle.put_nowait(await self._spawn())
                return
            except (OSError, RuntimeError, TimeoutError) as exc:
                log.error("could not start a run process (%s); retrying in 1s", exc)
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        """Stop every child: idle ones exit when their pipe closes; others are killed."""
        for task in list(self._retiring):
            task.cancel()
        await asyncio.gather(*self._retiring, return_exceptions=True)
        children = list(self._all)
        self._all.clear()
        for child in children:
            child.close()
        for child in children:
            if await child.exit_code(timeout=2.0) is None:
                child.signal_group(signal.SIGKILL)
                await child.exit_code()


async def _pump(child: RunProcess, inbox: asyncio.Queue[tuple[str, Any]]) -> None:
    """Forward the child's messages into the run's inbox (and its death, once)."""
    try:
        while True:
            message = await child.receive()
            inbox.put_nowait((message[0], message[1] if len(message) > 1 else None))
            if message[0] == "done":
                return
    except ChildGone:
        inbox.put_nowait(("gone", None))


def _finished(outcome: Outcome, state: _RunState) -> Outcome:
    """The child's own outcome, adjusted when the run ended because it was told to stop."""
    if state.stopping is StopReason.TIMEOUT and outcome.status is RunStatus.CANCELLED:
        return dataclasses.replace(
            outcome,
            status=RunStatus.FAILED,
            reason=FailureReason.TIMEOUT,
            error=_timeout_error(state),
        )
    return outcome


async def _died(child: RunProcess, state: _RunState) -> Outcome:
    code = await child.exit_code()
    if state.stopping is StopReason.SHUTDOWN:
        raise RunAbandoned(f"run {state.job.run_id} stopped by the worker's shutdown")
    last = {**state.progress.tasks, **child.last_task_states()}
    if state.stopping is StopReason.CANCEL:
        return _stopped(state, last, RunStatus.CANCELLED, FailureReason.CANCELLED, None)
    if state.stopping is StopReason.TIMEOUT:
        return _stopped(state, last, RunStatus.FAILED, FailureReason.TIMEOUT, _timeout_error(state))
    running = sorted(name for name, task in last.items() if task is TaskState.RUNNING)
    where = f" while running {', '.join(running)}" if running else ""
    error = f"the run's process died ({_exit_text(code)}){where}"
    log.warning("run %s: %s", state.job.run_id, error)
    return _stopped(state, last, RunStatus.FAILED, FailureReason.CRASHED, error)


def _stopped(
    state: _RunState,
    last: Mapping[str, TaskState],
    status: RunStatus,
    reason: FailureReason,
    error: str | None,
) -> Outcome:
    """The outcome of a run whose process ended mid-run.

    Tasks that were running are FAILED when the process crashed and CANCELLED when it was
    stopped; tasks that had not started are CANCELLED.
    """
    now = time.time()
    running_becomes = TaskState.FAILED if reason is FailureReason.CRASHED else TaskState.CANCELLED
    tasks = {name: _after_stop(task, running_becomes) for name, task in last.items()}
    records = {
        name: _closed_record(record, tasks.get(name, record.state), now, error)
        for name, record in state.progress.records.items()
    }
    for name, task in tasks.items():
        records.setdefault(name, _closed_record(TaskRecord(state=task), task, now, error))
    return Outcome(status, tasks, records, error, reason)


def _after_stop(task: TaskState, running_becomes: TaskState) -> TaskState:
    if task is TaskState.RUNNING:
        return running_becomes
    if task is TaskState.PENDING:
        return TaskState.CANCELLED
    return task


def _closed_record(
    record: TaskRecord, state: TaskState, now: float, error: str | None
) -> TaskRecord:
    if record.state not in _UNFINISHED:
        return record
    failed = state is TaskState.FAILED
    return dataclasses.replace(
        record,
        state=state,
        ended_at=record.ended_at or now,
        error=record.error or (error if failed else None),
    )


def _timeout_error(state: _RunState) -> str:
    return f"the run exceeded its timeout of {state.control.timeout_sec:g}s and was stopped"


def _exit_text(code: int | None) -> str:
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _preload(resolver_spec: str | None) -> list[str]:
    modules = ["pyoco", "pyoco_worker.child"]
    if resolver_spec:
        target = resolver_spec.rpartition(":")[0]
        if target and not target.endswith(".py"):
            modules.append(target)
    return modules
