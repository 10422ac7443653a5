"""`ProcessPool`: the executor that runs each run in a warm child process (child.py).

Isolation is what makes cancel and timeouts real and crashes harmless: pyoco cannot interrupt a
running task, but the worker can stop the process running it. A stop escalates in three steps:
pyoco's cooperative cancel, then SIGTERM to the child's process group once
PYOCO_CANCEL_GRACE_PERIOD_SEC has passed, then SIGKILL one second later. A child that dies on its
own (`os._exit`, a segfault, the OOM killer) fails only its run; every child that did not end
cleanly is replaced by a fresh one from the fork server, which has pyoco already imported (and,
with reload off, the flow resolver). Before a child takes a run, the task files it loaded are
checked (freshness.py): with reload on, a child whose files changed on disk is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import time
from typing import Any

from pyoco_server.aio import cancel_all
from pyoco_server.domain.records import Job
from pyoco_worker import forkserver, sandbox
from pyoco_worker.child import ChildConfig
from pyoco_worker.deaths import RunState, broke_protocol, finished, settle_death
from pyoco_worker.execution import (
    NO_CODE,
    Installed,
    LogBatch,
    LogSink,
    Outcome,
    ProgressCallback,
    RunControl,
    StopReason,
    not_started,
    unsendable,
)
from pyoco_worker.freshness import CodeWatch
from pyoco_worker.process import (
    RUN_PROCESS_NAME,
    Delivered,
    RunProcess,
    UnsendableJob,
    Violation,
)
from pyoco_worker.protocol import (
    Cancel,
    Finished,
    Imported,
    ProgressReport,
    ProgressRequest,
    RunJob,
)

log = logging.getLogger(__name__)

_LONG_WAIT_SEC = 1.0
"""A run that waits longer than this for a run process is logged."""

KILL_AFTER_SEC = 1.0
"""How long a child gets between SIGTERM and SIGKILL."""


class ProcessPool:
    """Runs up to `size` runs at once, each in its own warm child process."""

    def __init__(
        self,
        size: int,
        *,
        config: ChildConfig | None = None,
        flush_interval: float = 0.05,
        cancel_grace_sec: float = 10.0,
        start_method: str = "forkserver",
    ) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one process")
        self.size = size
        self._config = config or ChildConfig()
        self._flush_interval = flush_interval
        self._cancel_grace_sec = cancel_grace_sec
        self._start_method = start_method
        self._context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            self._context.set_forkserver_preload(_PRELOAD)
        self._code = CodeWatch(self._config.reload)
        self._idle: list[RunProcess] = []
        self._idle_changed = asyncio.Condition()
        self._all: set[RunProcess] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self._lease_until = 0.0
        self._closing = False
        self._starting: set[asyncio.Task[RunProcess]] = set()

    async def start(self) -> None:
        """Start the fork server (scrubbed environment) and the children."""
        if self._start_method == "forkserver":
            environ = sandbox.scrubbed(os.environ, extra_paths=(os.getcwd(),))
            environ[forkserver.GUARD_VARIABLE] = str(os.getpid())
            if self._config.resolver_spec and not self._config.reload:
                environ[forkserver.RESOLVER_VARIABLE] = self._config.resolver_spec
            forkserver.fit_socket_path()
            with sandbox.environment(environ):
                multiprocessing.forkserver.ensure_running()
        children = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        async with self._idle_changed:
            self._idle.extend(children)
            self._idle_changed.notify_all()
        log.info("started %d run process(es)", self.size)

    async def _spawn(self) -> RunProcess:
        """Start a child.

        Its start goes on, and it is registered, even if the caller is cancelled: `close`
        must find every child it has to stop.
        """
        task = asyncio.create_task(self._start_child())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)
        return await asyncio.shield(task)

    async def _start_child(self) -> RunProcess:
        child = await RunProcess.start(self._context, self._config, self._lease_until)
        self._all.add(child)
        return child

    def extend_lease(self, until: float) -> None:
        """Renew every run process's lease (see `Executor.extend_lease`)."""
        self._lease_until = until
        for child in self._all:
            child.extend_lease(until)

    def code_in_use(self) -> set[str]:
        """The wheels (sha256) that live run processes have on their `sys.path`."""
        return {sha256 for child in self._all for sha256 in child.code_key or ()}

    async def execute(
        self,
        job: Job,
        on_progress: ProgressCallback,
        control: RunControl,
        installed: Installed = NO_CODE,
        logs: LogSink | None = None,
    ) -> Outcome:
        """Run `job` with `installed` in an idle child (see the module docstring).

        The lines the run's tasks print and log go to `logs` as the child sends them.

        A child that ran other wheel versions, or another tenant's runs, is not used: task code
        may leave threads or modules behind in a process, which must never see another
        tenant's run. A fresh child (or one of the same tenant that ran no wheel code) takes
        the run, replacing the least recently used idle child if need be.

        Raises:
            RunAbandoned: a shutdown stopped the run; its job should go back to the queue.
        """
        control.start_clock()  # unless the worker started it when it claimed the run
        child = await self._take_unless_stopped(installed.key, job.tenant_id, control)
        if child is None:
            return not_started(job, control)
        reusable = False
        try:
            outcome, reusable = await self._run(child, job, on_progress, control, installed, logs)
            return outcome
        finally:
            if reusable:
                if installed.key:
                    child.code_key = installed.key
                elif child.code_key is None:
                    child.code_key = ()
                child.tenant = job.tenant_id
                await self._give_back(child)
            else:
                # The replacement starts in the background: the run's end is not held up by it.
                self._in_background(self._retire(child))

    async def _take_unless_stopped(
        self, key: tuple[str, ...], tenant: str | None, control: RunControl
    ) -> RunProcess | None:
        """An idle child as `_take` gives it, or None if the run is stopped while it waits."""
        child = _fitting(self._idle, key, tenant) if control.reason is None else None
        if child is not None and self._code.usable(child.loaded):  # at once, as nearly always
            self._idle.remove(child)
            return child
        give_back = lambda late: self._in_background(self._give_back(late))  # noqa: E731
        started = time.monotonic()
        child = await control.unless_stopped(self._take(key, tenant), undo=give_back)
        waited = time.monotonic() - started
        if waited > _LONG_WAIT_SEC:  # every process busy or starting: worth a line in the log
            log.info(
                "a run waited %.1fs for a run process (%d starting)", waited, len(self._starting)
            )
        return child

    async def _take(self, key: tuple[str, ...], tenant: str | None) -> RunProcess:
        """An idle child that may run code `key` for `tenant` (see `execute`)."""
        async with self._idle_changed:
            while True:
                await self._idle_changed.wait_for(lambda: bool(self._idle))
                child = _fitting(self._idle, key, tenant)
                if child is not None:
                    self._idle.remove(child)
                    if self._code.usable(child.loaded):
                        return child
                    self._in_background(self._retire(child))  # its task code changed
                    continue
                stale = self._idle.pop(0)  # least recently used: other wheels or tenant
                log.info("recycling a run process that ran other wheels or another tenant's runs")
                self._in_background(self._retire(stale))

    async def _give_back(self, child: RunProcess) -> None:
        async with self._idle_changed:
            self._idle.append(child)
            self._idle_changed.notify_all()

    async def _run(
        self,
        child: RunProcess,
        job: Job,
        on_progress: ProgressCallback,
        control: RunControl,
        installed: Installed,
        logs: LogSink | None = None,
    ) -> tuple[Outcome, bool]:
        loop = asyncio.get_running_loop()
        if control.reason is not None:  # stopped before it started: the child never sees it
            return not_started(job, control), True
        try:
            child.send(RunJob(job, installed, self._code.pins_for(child.loaded, job.tenant_id)))
        except UnsendableJob as exc:  # deterministic: another delivery would fail the same way
            outcome = unsendable(job, str(exc))
            log.warning("%s", outcome.error)
            return outcome, True
        state = RunState(job, control, loop.create_future())
        child.attach(lambda message: self._on_message(child, state, on_progress, message, logs))
        unhook = control.on_stop(lambda reason: self._begin_stop(child, state, reason))
        state.timers.append(loop.call_later(self._flush_interval, self._ask_progress, child, state))
        if control.reason is not None:
            self._begin_stop(child, state, control.reason)
        try:
            return await state.ended
        finally:
            control.close()
            child.detach()
            unhook()
            for timer in state.timers:
                timer.cancel()

    def _on_message(
        self,
        child: RunProcess,
        state: RunState,
        on_progress: ProgressCallback,
        message: Delivered,
        logs: LogSink | None = None,
    ) -> None:
        if state.ended.done():
            return
        match message:
            case None:
                self._in_background(settle_death(child, state))
            case Violation(detail=detail):
                log.error("run %s: its process broke the protocol: %s", state.job.run_id, detail)
                child.signal_group(signal.SIGKILL)
                state.ended.set_result((broke_protocol(state, detail), False))
            case ProgressReport(run_id=run_id, progress=progress):
                if run_id == state.job.run_id:  # never another run's late reply
                    state.progress = progress
                    on_progress(progress)
            case Imported(files=files):
                self._code.learn(child.loaded, state.job.tenant_id, files)
            case LogBatch(run_id=run_id) as batch:
                if logs is not None and run_id == state.job.run_id:
                    logs.received(batch)
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
        state.control.stopping_within(self._cancel_grace_sec + KILL_AFTER_SEC)

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
        while not self._closing:
            try:
                await self._give_back(await self._spawn())
                return
            except (OSError, RuntimeError, TimeoutError) as exc:
                log.error("could not start a run process (%s); retrying in 1s", exc)
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        """Stop every child: idle ones exit when their pipes close; others are killed.

        Run processes take SIGTERM without dying (a stop signal sent to the worker's whole
        group is the worker's to handle), so none may be left for multiprocessing to
        `terminate()` at exit: a replacement that was starting while the pool closed is killed
        here too.
        """
        self._closing = True
        await cancel_all(list(self._background))
        await asyncio.gather(*self._starting, return_exceptions=True)
        children = list(self._all)
        self._all.clear()
        for child in children:
            child.close()
        for child in children:
            if await child.exit_code(timeout=2.0) is None:
                child.signal_group(signal.SIGKILL)
                await child.exit_code()
        for process in multiprocessing.active_children():
            if process.name == RUN_PROCESS_NAME and process.pid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                await asyncio.to_thread(process.join, 5.0)


def _fitting(idle: list[RunProcess], key: tuple[str, ...], tenant: str | None) -> RunProcess | None:
    """The idle child to run code `key` for `tenant`.

    Among the fresh ones and those of the same tenant: one that ran the same code, else one
    that ran no wheels.
    """
    usable = [child for child in idle if child.code_key is None or child.tenant == tenant]
    same = [child for child in usable if child.code_key == key]
    if same:
        return same[-1]  # the most recently used: its caches are warm
    return next((child for child in usable if not child.code_key), None)


_PRELOAD = ["pyoco", "pyoco_worker.forkserver", "pyoco_worker.child", "pyoco_worker.cli"]
"""What the fork server imports: never task code (the flow resolver comes by forkserver.py).

multiprocessing imports the worker's main module again in each process it starts: the worker's
command line, `pyoco_worker.cli` (kept light for this), loaded here once, so that what it
imports is shared by the run processes, not loaded into each (4.5 MiB of private memory each)."""
