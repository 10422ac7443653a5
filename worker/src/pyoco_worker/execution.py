"""The seam between the worker loop and the place runs execute, and what crosses it.

`Executor` runs a job's flow and reports `Progress` and an `Outcome` as plain data; `RunControl`
asks a run to stop (`StopReason`). `ProcessPool` (pool.py) executes in warm run processes,
`InProcessExecutor` (engine.py) in a thread of the worker (tests and the benchmark's baseline).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

from pyoco_server.domain.copies import pickled_by_slots
from pyoco_server.domain.errors import RunAbandoned
from pyoco_server.domain.records import CodeVersion, Job, LogStream
from pyoco_server.domain.snapshot import (
    MAX_ERROR_CHARS,
    FailureReason,
    RunSnapshot,
    RunStatus,
    TaskRecord,
    TaskState,
    bounded_text,
)

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class Progress:
    """Task states and records of a run in progress."""

    tasks: Mapping[str, TaskState]
    records: Mapping[str, TaskRecord]


EMPTY_PROGRESS = Progress({}, {})


@pickled_by_slots
@dataclasses.dataclass(frozen=True, slots=True)
class Installed:
    """The registry wheels a run executes with: their contents, install paths and modules.

    A run process that has run code from one set of wheels runs only runs bound to the same set
    (its imported modules would otherwise mix versions); `key` tells sets apart.
    """

    key: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()


NO_CODE = Installed()
"""A run bound to no wheel."""


class CodeUnavailable(Exception):
    """A run's wheels cannot be installed here; the message says which and why."""


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """How a run ended."""

    status: RunStatus
    tasks: Mapping[str, TaskState]
    records: Mapping[str, TaskRecord]
    error: str | None = None
    reason: FailureReason | None = None


ProgressCallback = Callable[[Progress], None]


@dataclasses.dataclass(frozen=True, slots=True)
class LogLine:
    """One line a task wrote to stdout or stderr, or one record it logged."""

    task: str | None
    """The task that wrote it; None outside any task."""
    stream: LogStream
    message: str
    ts: float
    level: str | None = None
    logger: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class LogBatch:
    """Lines of `run_id`'s log, in order, and what its run process dropped so far."""

    run_id: str
    lines: tuple[LogLine, ...]
    dropped: int = 0
    """Bytes of lines dropped over the run's log limit so far (a running total)."""


class LogSink(Protocol):
    """Where an executing run's output goes (logs.py's `RunLog`)."""

    def received(self, batch: LogBatch) -> None:
        """Take a batch of the run's log, on the event loop."""


def message_bytes(text: str) -> int:
    """What a line counts against its run's log limit: the size of its text in UTF-8."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


class StopReason(enum.Enum):
    """Why a running run is being stopped."""

    CANCEL = "cancel"
    TIMEOUT = "timeout"
    SHUTDOWN = "shutdown"
    ABANDONED = "abandoned"
    """A newer attempt owns the run (or may: this worker lost touch for longer than AckWait)."""


class RunControl:
    """How the worker asks an executing run to stop (cancel, timeout, shutdown).

    The run's timeout counts from `start_clock`: the worker starts it when it claims the run
    (the snapshot's `start_time`), so that waiting for a run process or for the run's wheels to
    install counts against it; an executor starts it, if nobody did, when the run starts.

    The executor says when it has begun stopping the run, and within how long its process is
    killed (`stopping_within`), so that the run's snapshot can say so while it stops.
    """

    def __init__(self, timeout_sec: float | None = None) -> None:
        self.timeout_sec = timeout_sec
        self.reason: StopReason | None = None
        self.requested = asyncio.Event()
        self._listeners: list[Callable[[StopReason], None]] = []
        self._stopping_listeners: list[Callable[[StopReason, float], None]] = []
        self._clock: asyncio.TimerHandle | None = None
        self._clock_started = False
        self._deadline = 0.0

    def start_clock(self, elapsed: float = 0.0) -> None:
        """Stop the run once it has lasted `timeout_sec`, `elapsed` of which have passed.

        At once if none is left. Only the first call counts; `close` stops the clock. Nothing
        happens for a run without a timeout.
        """
        if self._clock_started or not self.timeout_sec:
            return
        self._clock_started = True
        self._deadline = time.monotonic() + max(0.0, self.timeout_sec - elapsed)
        self._clock = asyncio.get_running_loop().call_later(
            self._deadline - time.monotonic(), self._expire
        )

    def _expire(self) -> None:
        # A loop's timer may fire a little early (uvloop counts whole milliseconds from the
        # time its iteration began): the run is never stopped before its time is up.
        left = self._deadline - time.monotonic()
        if left > 0:
            self._clock = asyncio.get_running_loop().call_later(left, self._expire)
            return
        self._clock = None
        self.stop(StopReason.TIMEOUT)

    def close(self) -> None:
        """The run has ended: its timeout no longer applies."""
        self._clock_started = True
        if self._clock is not None:
            self._clock.cancel()
            self._clock = None

    async def unless_stopped(
        self, work: Awaitable[T], undo: Callable[[T], object] | None = None
    ) -> T | None:
        """What `work` returns, or None if the run is asked to stop first (`work` is cancelled).

        When both happen at once, `work`'s result wins: the caller checks `reason`. If the
        caller is cancelled, so is `work`; a result that comes too late to be returned is
        handed to `undo`.
        """
        if self.reason is not None:
            if asyncio.iscoroutine(work):
                work.close()  # never started: nothing to undo
            else:
                asyncio.ensure_future(work).cancel()
            return None
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(self.requested.wait())
        try:
            await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            stopped.cancel()
            task.cancel()
            await asyncio.wait((task,))
            if undo is not None and not task.cancelled() and task.exception() is None:
                undo(task.result())
            raise
        stopped.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait((task,))  # `work` has finished, one way or the other
        if task.cancelled():
            return None
        return task.result()

    def stop(self, reason: StopReason) -> None:
        """Ask the run to stop; the first reason given wins, except that shutdown overrides."""
        if self.reason is not None and reason is not StopReason.SHUTDOWN:
            return
        if self.reason is reason:
            return
        self.reason = reason
        self.requested.set()
        for listener in list(self._listeners):
            listener(reason)

    def on_stop(self, listener: Callable[[StopReason], None]) -> Callable[[], None]:
        """Call `listener` on every stop request from now on; returns a function that unhooks it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def stopping_within(self, seconds: float) -> None:
        """The executor's word: it is stopping the run, whose process is gone within `seconds`."""
        if self.reason is None:
            return
        for listener in list(self._stopping_listeners):
            listener(self.reason, seconds)

    def on_stopping(self, listener: Callable[[StopReason, float], None]) -> None:
        """Call `listener(reason, seconds)` when the executor begins stopping the run."""
        self._stopping_listeners.append(listener)


def timeout_message(control: RunControl) -> str:
    """The error of a run stopped for its timeout."""
    return f"the run exceeded its timeout of {control.timeout_sec or 0:g}s and was stopped"


def not_started(job: Job, control: RunControl) -> Outcome:
    """The outcome of a run stopped (`control.reason`) before a process started it.

    Raises:
        RunAbandoned: a shutdown (or a newer attempt) stopped it: its job goes back.
    """
    if control.reason in (StopReason.SHUTDOWN, StopReason.ABANDONED):
        raise RunAbandoned(f"run {job.run_id} stopped before it started")
    if control.reason is StopReason.TIMEOUT:
        return Outcome(RunStatus.FAILED, {}, {}, timeout_message(control), FailureReason.TIMEOUT)
    return Outcome(RunStatus.CANCELLED, {}, {}, None, FailureReason.CANCELLED)


def unsendable(job: Job, detail: str) -> Outcome:
    """The outcome of a run whose job could not be handed to a run process (`UnsendableJob`).

    Gateways refuse params that cause it (nested too deep: `MAX_NESTING`); a job queued some
    other way fails at once, not at each of its deliveries.
    """
    error = f"run {job.run_id}'s job could not be handed to a run process ({detail})"
    return Outcome(
        RunStatus.FAILED,
        {},
        {},
        bounded_text(error, MAX_ERROR_CHARS),
        FailureReason.EXECUTION_ERROR,
    )


class Executor(Protocol):
    """Runs jobs' flows and reports progress on the event loop."""

    async def start(self) -> None:
        """Get ready to run (start processes, ...)."""

    async def close(self) -> None:
        """Release what `start` acquired."""

    def code_in_use(self) -> set[str]:
        """The wheels (sha256) its processes have on their path (not to be removed)."""

    def extend_lease(self, until: float) -> None:
        """Let runs go on until `until` (`time.monotonic()`), unless renewed before.

        A run whose lease runs out stops on its own: its worker has stopped telling NATS it is
        alive (frozen, or cut off), so the job may soon be delivered to another worker.
        """

    async def execute(
        self,
        job: Job,
        on_progress: ProgressCallback,
        control: RunControl,
        installed: Installed = NO_CODE,
        logs: LogSink | None = None,
    ) -> Outcome:
        """Run `job` with the wheels `installed`; `on_progress` is called as tasks change.

        What the run's tasks print and log goes to `logs` (if the executor captures it).

        Raises:
            RunAbandoned: `control` asked for a shutdown stop before the run ended.
        """


class RunObserver(Protocol):
    """Told when runs start and leave this worker (the registry presence)."""

    def run_started(self, run_id: str) -> None:
        """A run started executing here."""

    def run_ended(self, run_id: str, snapshot: RunSnapshot | None) -> None:
        """A run left this worker; `snapshot` is its last snapshot when it ended here."""


class NoObserver:
    """A `RunObserver` that is told nothing."""

    def run_started(self, run_id: str) -> None:
        """Nothing to do."""

    def run_ended(self, run_id: str, snapshot: RunSnapshot | None) -> None:
        """Nothing to do."""


class CodePreparer(Protocol):
    """Installs the registry wheels a run is bound to (the worker's wheel sync)."""

    def prepared(self, code: Sequence[CodeVersion]) -> AbstractAsyncContextManager[Installed]:
        """The installed wheels, kept on disk while open.

        Raises `CodeUnavailable` on entering when one cannot be installed here.
        """
