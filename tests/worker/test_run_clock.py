"""A run's timeout counts from its claim, and a stop ends a run still waiting to start.

The worker claims a run (RUNNING, `start_time`) before the run has a process: it may wait for
one to be free or started, and for the run's wheels to install. That wait counts against the
run's timeout ("seconds the run may take once a worker starts it"), and a cancel or a timeout
ends a run that is still waiting, instead of after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import uvloop

from pyoco_server.domain.codec import JOB
from pyoco_server.domain.records import CodeVersion
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import FailureReason, RunSnapshot, RunStatus
from pyoco_server.memory import MemoryBackend
from pyoco_worker.execution import Installed, Outcome, RunControl, StopReason
from pyoco_worker.runner import JobRunner
from pyoco_worker.wheels import WheelSync
from tests.support.pool import execute, job, run, started_pool, started_task
from tests.support.runner import runner_harness
from tests.support.samples import A_JOB, RUN_ID

TIMEOUT = 0.3


def test_the_clock_stops_the_run_when_its_timeout_less_what_has_passed_is_up() -> None:
    async def scenario() -> tuple[float, float, StopReason | None]:
        late = RunControl(timeout_sec=TIMEOUT)
        started = time.monotonic()
        late.start_clock(elapsed=TIMEOUT - 0.1)
        late.start_clock(elapsed=0)  # only the first start counts
        await asyncio.wait_for(late.requested.wait(), 5)
        took = time.monotonic() - started
        over = RunControl(timeout_sec=TIMEOUT)
        over.start_clock(elapsed=10 * TIMEOUT)
        started = time.monotonic()
        await asyncio.wait_for(over.requested.wait(), 5)
        return took, time.monotonic() - started, late.reason

    took, at_once, reason = run(scenario())

    assert reason is StopReason.TIMEOUT
    assert 0.1 <= took < TIMEOUT, f"stopped {took:.3f}s after the start, 0.1s left"
    assert at_once < 0.1


def test_a_closed_clock_or_a_run_without_a_timeout_never_stops() -> None:
    async def scenario() -> tuple[StopReason | None, StopReason | None]:
        closed = RunControl(timeout_sec=0.05)
        closed.start_clock()
        closed.close()
        closed.start_clock()  # a closed clock does not start again
        endless = RunControl()
        endless.start_clock()
        await asyncio.sleep(0.2)
        return closed.reason, endless.reason

    assert run(scenario()) == (None, None)


def test_unless_stopped_gives_the_work_s_result_or_none_once_the_run_is_stopped() -> None:
    async def scenario() -> tuple[object, object, bool, object]:
        control = RunControl()
        done = await control.unless_stopped(asyncio.sleep(0, "result"))
        gate = asyncio.Event()

        async def never() -> str:
            await gate.wait()
            return "late"

        work = asyncio.ensure_future(never())
        asyncio.get_running_loop().call_later(0.05, control.stop, StopReason.CANCEL)
        stopped = await control.unless_stopped(work)
        already = await control.unless_stopped(never())  # not even started: nothing warns
        return done, stopped, work.cancelled(), already

    assert run(scenario()) == ("result", None, True, None)


def test_a_result_the_cancelled_caller_no_longer_takes_is_undone() -> None:
    async def scenario() -> list[object]:
        control = RunControl()
        undone: list[object] = []
        ready = asyncio.Event()

        async def finishes_when_cancelled() -> str:
            ready.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                return "taken"  # e.g. a process became idle as the caller gave up
            return "never"

        waiting = asyncio.create_task(
            control.unless_stopped(finishes_when_cancelled(), undo=undone.append)
        )
        await ready.wait()
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        return undone

    assert run(scenario()) == ["taken"]


def test_a_run_waiting_for_a_busy_process_times_out_or_is_cancelled_while_it_waits(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "task.pid"

    async def scenario() -> tuple[Outcome, float, Outcome, Outcome, Outcome]:
        async with started_pool(1) as pool:
            hold = RunControl()
            holding = asyncio.create_task(
                execute(pool, job("sleep_for", seconds=3600, pid_file=str(pid_file)), hold)
            )
            await started_task(pid_file)
            started = time.monotonic()
            timed = await execute(pool, job("add_one", x=1), RunControl(timeout_sec=TIMEOUT))
            took = time.monotonic() - started
            control = RunControl()
            asyncio.get_running_loop().call_later(0.1, control.stop, StopReason.CANCEL)
            cancelled = await execute(pool, job("add_one", x=1), control)
            hold.stop(StopReason.CANCEL)
            held = await holding
            after = await execute(pool, job("add_one", x=1))
            return timed, took, cancelled, held, after

    timed, took, cancelled, held, after = run(scenario())

    assert (timed.status, timed.reason) == (RunStatus.FAILED, FailureReason.TIMEOUT)
    assert timed.error == f"the run exceeded its timeout of {TIMEOUT:g}s and was stopped"
    assert timed.tasks == {}, "it never started"
    assert took < TIMEOUT + 1, f"it waited {took:.2f}s for the busy process"
    assert (cancelled.status, cancelled.reason) == (RunStatus.CANCELLED, FailureReason.CANCELLED)
    assert held.status is RunStatus.CANCELLED
    assert after.status is RunStatus.COMPLETED, "the pool's process is still in service"


class SlowInstalls:
    """A `CodePreparer` whose installs take an hour (or until cancelled)."""

    def __init__(self) -> None:
        self.cancelled = 0

    @contextlib.asynccontextmanager
    async def prepared(self, code: Sequence[CodeVersion]) -> AsyncIterator[Installed]:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        yield Installed((), (), ())  # pragma: no cover - never reached


def test_the_timeout_counts_from_the_claim_through_the_install_of_the_run_s_wheels() -> None:
    bound = (CodeVersion("demo", "1.0", "ab" * 32, "demo-1.0-py3-none-any.whl"),)
    timed = dataclasses.replace(A_JOB, timeout_sec=TIMEOUT, code=bound)
    h = runner_harness(RunSnapshot.pending(timed))
    installs = SlowInstalls()
    h.runner = JobRunner(
        store=h.reads,
        dead_letters=h.dead_letters,
        executor=h.executor,
        settings=h.backend.settings,
        worker_id="w1",
        code=installs,
    )

    started = time.monotonic()
    status = h.deliver(h.delivery(JOB.encode(timed)))
    took = time.monotonic() - started

    final = h.store.current(RUN_ID)
    assert status is RunStatus.FAILED
    assert final is not None
    assert final.error_reason == "timeout"
    assert final.error == f"the run exceeded its timeout of {TIMEOUT:g}s and was stopped"
    assert "execute" not in h.log, "the run never reached a process"
    assert installs.cancelled == 1
    assert took < TIMEOUT + 2, f"the run ended {took:.2f}s after its delivery"


class GatedInstaller:
    """An installer whose installs finish when `gate` opens."""

    def __init__(self, root: Path) -> None:
        self.gate = asyncio.Event()
        self.installed: list[str] = []
        self.root = root

    async def install(self, code: CodeVersion, provided: object = ()) -> Path:
        await self.gate.wait()
        self.installed.append(code.sha256)
        return self.root / code.sha256


def test_an_install_goes_on_for_later_runs_when_the_run_that_asked_for_it_stops(
    tmp_path: Path,
) -> None:
    bound = (CodeVersion("demo", "1.0", "ab" * 32, "demo-1.0-py3-none-any.whl"),)
    settings = Settings(wheel_sync_dir=str(tmp_path))
    sync = WheelSync(MemoryBackend(settings), settings, ["default"])
    installer = GatedInstaller(tmp_path)
    sync.installer = installer  # type: ignore[assignment]

    async def scenario() -> tuple[list[str], list[str]]:
        control = RunControl()

        async def enter() -> Installed:
            async with sync.prepared(bound) as installed:
                return installed

        asyncio.get_running_loop().call_later(0.05, control.stop, StopReason.TIMEOUT)
        assert await control.unless_stopped(enter()) is None
        before = list(installer.installed)
        installer.gate.set()
        for _ in range(100):
            if installer.installed:
                break
            await asyncio.sleep(0.01)
        await sync.stop()
        return before, installer.installed

    before, after = run(scenario())

    assert before == [], "the install was still going when the run stopped"
    assert after == ["ab" * 32], "the install finished for the runs after it"


def test_a_stopping_worker_cancels_the_installs_still_going(tmp_path: Path) -> None:
    bound = (CodeVersion("demo", "1.0", "ab" * 32, "demo-1.0-py3-none-any.whl"),)
    settings = Settings(wheel_sync_dir=str(tmp_path))
    sync = WheelSync(MemoryBackend(settings), settings, ["default"])
    installer = GatedInstaller(tmp_path)
    sync.installer = installer  # type: ignore[assignment]

    async def scenario() -> list[str]:
        waiting = asyncio.create_task(sync.prepared(bound).__aenter__())
        await asyncio.sleep(0.05)
        waiting.cancel()
        await sync.stop()
        installer.gate.set()
        for _ in range(20):  # a gated install still going would finish within these steps
            await asyncio.sleep(0)
        return installer.installed

    assert run(scenario()) == []


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_the_clock_never_stops_a_run_before_its_time_is_up(loop_kind: str) -> None:
    timeout = 0.0205  # uvloop counts whole milliseconds: its timer alone would fire 0.5 ms early

    async def early_by() -> float:
        worst = 0.0
        for _ in range(10):
            control = RunControl(timeout_sec=timeout)
            started = time.monotonic()
            control.start_clock()
            await asyncio.wait_for(control.requested.wait(), 5)
            worst = max(worst, started + timeout - time.monotonic())
        return worst

    runner = uvloop.run if loop_kind == "uvloop" else asyncio.run
    assert runner(early_by()) <= 0, "a run was stopped before its timeout"
