"""Fakes beyond the in-memory backend (`pyoco_server.memory`, which fakes every port).

- `Clock`: a clock the test moves by hand;
- `FakeDelivery`: a delivery that records what was done with it, for runner tests that hand
  the runner one delivery without a work stream;
- `FakeExecutor`: returns a canned outcome (optionally doing something mid-run);
- `RecordingObserver`: a runner's observer that logs the runs it is told of;
- `ScriptedExecutor`: runs that wait until a test releases or stops them, for the worker loop;
- `Spy`: stands between a service and a port (usually one of the memory backend's), recording
  the calls and letting a test fail, slow down or race them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from pyoco_server.domain.errors import BackendUnavailable, RunAbandoned
from pyoco_server.domain.records import Job
from pyoco_server.domain.snapshot import (
    FailureReason,
    RunSnapshot,
    RunStatus,
    TaskRecord,
    TaskState,
)
from pyoco_worker.execution import (
    NO_CODE,
    Installed,
    LogSink,
    Outcome,
    ProgressCallback,
    RunControl,
    StopReason,
)
from tests.support.samples import NOW


class Clock:
    """A clock the test moves by hand (set `now`); call it for the time."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


COMPLETED = Outcome(
    RunStatus.COMPLETED,
    {"add_one": TaskState.SUCCEEDED},
    {"add_one": TaskRecord(state=TaskState.SUCCEEDED, output=2)},
)
"""The outcome of a run whose one task succeeded."""


def failed(reason: FailureReason, error: str) -> Outcome:
    """The outcome of a run that failed for `reason`."""
    return Outcome(RunStatus.FAILED, {}, {}, error, reason)


@dataclasses.dataclass
class FakeDelivery:
    """A delivery that records what the runner did with it in `log`."""

    data: bytes
    log: list[str]
    subject: str = "pyoco.work.default"
    attempt: int = 1
    nak_error: BackendUnavailable | None = None
    seq: int = 1

    async def ack(self) -> None:
        self.log.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.log.append(f"nak {delay}")
        if self.nak_error is not None:
            raise self.nak_error

    async def term(self) -> None:
        self.log.append("term")

    async def in_progress(self) -> None:
        self.log.append("in_progress")


class FakeExecutor:
    """Returns a canned outcome, after calling `during_run` (if set)."""

    def __init__(self, outcome: Outcome, log: list[str]) -> None:
        self.outcome = outcome
        self.jobs: list[Job] = []
        self.log = log
        self.during_run: Callable[[ProgressCallback], Awaitable[None]] | None = None
        self.lease: float | None = None

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def code_in_use(self) -> set[str]:
        return set()

    def extend_lease(self, until: float) -> None:
        self.lease = until

    async def execute(
        self,
        job: Job,
        on_progress: ProgressCallback,
        control: RunControl,
        installed: Installed = NO_CODE,
        logs: LogSink | None = None,
    ) -> Outcome:
        self.jobs.append(job)
        self.log.append("execute")
        if self.during_run is not None:
            await self.during_run(on_progress)
        return self.outcome


class RecordingObserver:
    """A runner's `RunObserver` that logs what it is told and keeps the snapshots of ends."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.ended: list[RunSnapshot | None] = []

    def run_started(self, run_id: str) -> None:
        self.log.append(f"started {run_id}")

    def run_ended(self, run_id: str, snapshot: RunSnapshot | None) -> None:
        self.ended.append(snapshot)
        self.log.append(f"ended {run_id} {snapshot.status if snapshot else None}")


class ScriptedExecutor:
    """An executor whose runs last until the test releases them or the worker stops them.

    With `hold=False` runs end at once with `outcome`. A stop ends a held run as the process
    pool would: a cancel as CANCELLED, a timeout as FAILED, a shutdown by `RunAbandoned`.
    `max_running` is the most runs that executed at the same time.
    """

    def __init__(self, outcome: Outcome = COMPLETED, *, hold: bool = False) -> None:
        self.outcome = outcome
        self.hold = hold
        self.started: list[Job] = []
        self.running: set[str] = set()
        self.max_running = 0
        self.events: list[str] = []
        self._released: dict[str, asyncio.Event] = {}
        self._changed = asyncio.Condition()
        self.closed = False
        self.lease: float | None = None
        self.stops: dict[str, StopReason] = {}
        """Why each run the worker stopped was stopped."""

    async def start(self) -> None:
        self.events.append("executor started")

    async def close(self) -> None:
        self.closed = True
        self.events.append("executor closed")

    def code_in_use(self) -> set[str]:
        return set()

    def extend_lease(self, until: float) -> None:
        self.lease = until

    async def execute(
        self,
        job: Job,
        on_progress: ProgressCallback,
        control: RunControl,
        installed: Installed = NO_CODE,
        logs: LogSink | None = None,
    ) -> Outcome:
        released = self._released.setdefault(job.run_id, asyncio.Event())
        self.started.append(job)
        self.running.add(job.run_id)
        self.max_running = max(self.max_running, len(self.running))
        await self._notify()
        try:
            if self.hold:
                await _first_of(released.wait(), control.requested.wait())
            if control.reason is not None:
                self.stops[job.run_id] = control.reason
            return _ending(self.outcome, control)
        finally:
            self.running.discard(job.run_id)
            self.events.append(f"ended {job.run_id}")
            await self._notify()

    def release(self, run_id: str | None = None) -> None:
        """Let one held run (or, with None, every run, now and later) end."""
        if run_id is None:
            self.hold = False
            for event in self._released.values():
                event.set()
        else:
            self._released.setdefault(run_id, asyncio.Event()).set()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds after some run started or ended."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


async def _first_of(*waits: Awaitable[object]) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _ending(outcome: Outcome, control: RunControl) -> Outcome:
    if control.reason is StopReason.SHUTDOWN:
        raise RunAbandoned("stopped by the worker's shutdown")
    if control.reason is StopReason.CANCEL:
        return Outcome(RunStatus.CANCELLED, {}, {}, reason=FailureReason.CANCELLED)
    if control.reason is StopReason.TIMEOUT:
        return failed(FailureReason.TIMEOUT, "the run exceeded its timeout")
    return outcome


@dataclasses.dataclass(frozen=True)
class Call:
    """One call of a port's method, as a `Spy` saw it."""

    name: str
    arguments: dict[str, Any]
    """Every parameter by name, defaults included."""


class Spy:
    """A port's stand-in that records every call of its async methods, then calls through.

    `before[name]`, when set, runs with a call's arguments before the port is called (and is
    awaited if it returns an awaitable): it may raise (the call fails without reaching the port),
    wait (a slow round trip) or change the world (a concurrent write landing just before).
    Other attributes are the port's own. `in_flight` counts the calls begun and not yet ended.
    """

    def __init__(self, port: Any) -> None:
        self.port = port
        self.calls: list[Call] = []
        self.before: dict[str, Callable[..., object]] = {}
        self.in_flight = 0

    def calls_to(self, name: str) -> list[Call]:
        """The calls of method `name`, in order."""
        return [call for call in self.calls if call.name == name]

    def fail(self, name: str, error: BaseException) -> None:
        """Make every call of `name` raise `error` (until `before[name]` is removed)."""

        def raise_error(*_args: object, **_kwargs: object) -> None:
            raise error

        self.before[name] = raise_error

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.port, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            bound = inspect.signature(attribute).bind(*args, **kwargs)
            bound.apply_defaults()
            self.calls.append(Call(name, dict(bound.arguments)))
            self.in_flight += 1
            try:
                hook = self.before.get(name)
                if hook is not None:
                    result = hook(*args, **kwargs)
                    if inspect.isawaitable(result):
                        await result
                return await attribute(*args, **kwargs)
            finally:
                self.in_flight -= 1

        return call
