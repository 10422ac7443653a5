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
from collections.abc import Callable, Mapping
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


_STATES_BYTES = 16384
"""Size of a child's shared task-state buffer (see child.py)."""


class RunProcess:
    """One warm child process: its pipes (jobs, control) and its task-state buffer."""

    def __init__(
        self, process: BaseProcess, jobs: Connection, control: Connection, states: Any
    ) -> None:
        self.process = process
        self.jobs = jobs
        self.control = control
        self.states = states
        self._sink: Callable[[tuple[Any, ...] | None], None] | None = None
        self._backlog: collections.deque[tuple[Any, ...] | None] = collections.deque()
        self._gone = False

    @property
    def pid(self) -> int:
        """The child's process id (also its process group id)."""
        assert self.process.pid is not None
        return self.process.pid

    @classmethod
    async def start(cls, context: BaseContext, resolver_spec: str | None) -> RunProcess:
        """Start a child and wait until it is ready to run."""
        jobs, child_jobs = context.Pipe(duplex=True)
        child_control, control = context.Pipe(duplex=False)
        states = context.RawArray(ctypes.c_char, _STATES_BYTES)
        process = context.Process(  # type: ignore[attr-defined]
            target=child_main,
            args=(child_jobs, child_control, states, resolver_spec),
            name="pyoco-run",
            daemon=True,
        )
        await asyncio.to_thread(process.start)
        child_jobs.close()
        child_control.close()
        child = cls(process, jobs, control, states)
        asyncio.get_running_loop().add_reader(jobs.fileno(), child._on_readable)
        ready: asyncio.Future[tuple[Any, ...] | None] = asyncio.get_running_loop().create_future()

        def first(message: tuple[Any, ...] | None) -> None:
            if not ready.done():
                ready.set_result(message)

        child.attach(first)
        message = await asyncio.wait_for(ready, _START_TIMEOUT_SEC)
        child.detach()
        if message != ("ready",):
            raise RuntimeError(f"run process sent {message!r} instead of ready")
        return child

    def attach(self, sink: Callable[[tuple[Any, ...] | None], None]) -> None:
        """Deliver the child's messages to `sink`, on the loop (None once it is gone)."""
        self._sink = sink
        while self._backlog and self._sink is sink:
            sink(self._backlog.popleft())

    def detach(self) -> None:
        """Stop delivering; later messages wait for the next `attach`."""
        self._sink = None

    def _on_readable(self) -> None:
        try:
            message: tuple[Any, ...] | None = self.jobs.recv()
        except (EOFError, OSError):
            message = None
            self._gone = True
            asyncio.get_running_loop().remove_reader(self.jobs.fileno())
        if self._sink is not None:
            self._sink(message)
        else:
            self._backlog.append(message)

    def send(self, message: tuple[Any, ...]) -> None:
        """Send a job to the child (ignored once it is gone)."""
        if not self._gone:
            with contextlib.suppress(OSError):
                self.jobs.send(message)

    def tell(self, message: tuple[Any, ...]) -> None:
        """Send a control message (cancel, progress request)."""
        if not self._gone:
            with contextlib.suppress(OSError):
                self.control.send(message)

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
        """Drop the pipes; an idle child then exits by itself."""
        if not self._gone:
            self._gone = True
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self.jobs.fileno())
        self.jobs.close()
        self.control.close()


@dataclasses.dataclass
class _RunState:
    """What the pool knows about the run in one child."""

    job: Job
    control: RunControl
    on_progress: ProgressCallback
    ended: asyncio.Future[tuple[Outcome, bool]]
    progress: Progress = EMPTY_PROGRESS
    stopping: StopReason | None = None
    timers: list[asyncio.TimerHandle] = dataclasses.field(default_factory=list)


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
        self._background: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Start the children (the first also starts the fork server)."""
        first = await self._spawn()
        rest = await asyncio.gather(*(self._spawn() for _ in range(self.size - 1)))
        for child in (first, *rest):
            self._idle.put_nowait(child)
        log.info("started %d run process(es)", self.size)

    async def _spawn(self) -> RunProcess:
        child = await RunProcess.start(self._context, self._resolver_spec)
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
                self._in_background(self._retire(child))

    async def _run(
        self, child: RunProcess, job: Job, on_progress: ProgressCallback, control: RunControl
    ) -> tuple[Outcome, bool]:
        loop = asyncio.get_running_loop()
        state = _RunState(job, control, on_progress, loop.create_future())
        child.attach(lambda message: self._on_message(child, state, message))
        unhook = control.on_stop(lambda reason: self._begin_stop(child, state, reason))
        if control.timeout_sec:
            state.timers.append(
                loop.call_later(control.timeout_sec, control.stop, StopReason.TIMEOUT)
            )
        state.timers.append(loop.call_later(self._flush_interval, self._ask_progress, child, state))
        child.send(("run", job))
        if control.reason is not None:
            self._begin_stop(child, state, control.reason)
        try:
            return await state.ended
        finally:
            child.detach()
            unhook()
            for timer in state.timers:
                timer.cancel()

    def _on_message(
        self, child: RunProcess, state: _RunState, message: tuple[Any, ...] | None
    ) -> None:
        if state.ended.done():
            return
        if message is None:
            self._in_background(_settle_death(child, state))
        elif message[0] == "progress":
            if message[1] == state.job.run_id:  # never another run's late reply
                state.progress = message[2]
                state.on_progress(message[2])
        elif message[0] == "done":
            state.ended.set_result((_finished(message[1], state), True))

    def _ask_progress(self, child: RunProcess, state: _RunState) -> None:
        """While the run lasts, ask the child for changed task states every flush interval."""
        if state.ended.done():
            return
        child.tell(("progress?", state.job.run_id))
        loop = asyncio.get_running_loop()
        state.timers.append(loop.call_later(self._flush_interval, self._ask_progress, child, state))

    def _begin_stop(self, child: RunProcess, state: _RunState, reason: StopReason) -> None:
        if state.ended.done() or state.stopping is StopReason.SHUTDOWN or state.stopping is reason:
            return
        state.stopping = reason
        if reason is StopReason.SHUTDOWN:
            child.signal_group(signal.SIGKILL)
            return
        child.tell(("cancel", state.job.run_id))
        loop = asyncio.get_running_loop()
        state.timers.append(loop.call_later(self._cancel_grace_sec, self._escalate, child, state))

    def _escalate(self, child: RunProcess, state: _RunState) -> None:
        if state.ended.done():
            return
        log.warning("run %s did not stop within the grace period; terminating it", state.job.run_id)
        child.signal_group(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        state.timers.append(loop.call_later(KILL_AFTER_SEC, child.signal_group, signal.SIGKILL))

    def _in_background(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
        """Stop every child: idle ones exit when their pipes close; others are killed."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        children = list(self._all)
        self._all.clear()
        for child in children:
            child.close()
        for child in children:
            if await child.exit_code(timeout=2.0) is None:
                child.signal_group(signal.SIGKILL)
                await child.exit_code()


async def _settle_death(child: RunProcess, state: _RunState) -> None:
    """The child died mid-run: end the run with the outcome its death means."""
    try:
        outcome = await _died(child, state)
    except RunAbandoned as exc:
        if not state.ended.done():
            state.ended.set_exception(exc)
        return
    if not state.ended.done():
        state.ended.set_result((outcome, False))


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
        # A task the pool heard nothing of yet: its record closes from its state before the stop.
        records.setdefault(name, _closed_record(TaskRecord(state=last[name]), task, now, error))
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
