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
import logging
import multiprocessing
import signal
from typing import Any

from pyoco_server.domain.records import Job
from pyoco_worker.deaths import RunState, finished, settle_death
from pyoco_worker.execution import Outcome, ProgressCallback, RunControl, StopReason
from pyoco_worker.process import RunProcess
from pyoco_worker.protocol import (
    Cancel,
    Finished,
    FromChild,
    ProgressReport,
    ProgressRequest,
    RunJob,
)

log = logging.getLogger(__name__)

KILL_AFTER_SEC = 1.0
"""How long a child gets between SIGTERM and SIGKILL."""


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
        state = RunState(job, control, loop.create_future())
        child.attach(lambda message: self._on_message(child, state, on_progress, message))
        unhook = control.on_stop(lambda reason: self._begin_stop(child, state, reason))
        if control.timeout_sec:
            state.timers.append(
                loop.call_later(control.timeout_sec, control.stop, StopReason.TIMEOUT)
            )
        state.timers.append(loop.call_later(self._flush_interval, self._ask_progress, child, state))
        child.send(RunJob(job))
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
        self,
        child: RunProcess,
        state: RunState,
        on_progress: ProgressCallback,
        message: FromChild | None,
    ) -> None:
        if state.ended.done():
            return
        match message:
            case None:
                self._in_background(settle_death(child, state))
            case ProgressReport(run_id=run_id, progress=progress):
                if run_id == state.job.run_id:  # never another run's late reply
                    state.progress = progress
                    on_progress(progress)
            case Finished(outcome=outcome):
                state.ended.set_result((finished(outcome, state), True))

    def _ask_progress(self, child: RunProcess, state: RunState) -> None:
        """While the run lasts, ask the child for changed task states every flush interval."""
        if state.ended.done():
            return
        child.tell(ProgressRequest(state.job.run_id))
        loop = asyncio.get_running_loop()
        state.timers.append(loop.call_later(self._flush_interval, self._ask_progress, child, state))

    def _begin_stop(self, child: RunProcess, state: RunState, reason: StopReason) -> None:
        if state.ended.done() or state.stopping is StopReason.SHUTDOWN or state.stopping is reason:
            return
        state.stopping = reason
        if reason is StopReason.SHUTDOWN:
            child.signal_group(signal.SIGKILL)
            return
        child.tell(Cancel(state.job.run_id))
        loop = asyncio.get_running_loop()
        state.timers.append(loop.call_later(self._cancel_grace_sec, self._escalate, child, state))

    def _escalate(self, child: RunProcess, state: RunState) -> None:
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


def _preload(resolver_spec: str | None) -> list[str]:
    modules = ["pyoco", "pyoco_worker.child"]
    if resolver_spec:
        target = resolver_spec.rpartition(":")[0]
        if target and not target.endswith(".py"):
            modules.append(target)
    return modules
