"""Running one job's flow with pyoco's `Engine`, as plain data; and the in-process executor.

`JobExecution` builds the flow, runs it, reads pyoco's records into ours, and can be cancelled
from another thread. pyoco redirects the process's stdout during a run, so a process runs one
flow at a time: run processes (child.py) use it, and `InProcessExecutor` runs one flow at a time
in a thread of the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Callable, Iterable
from typing import Protocol

from pyoco.core.engine import Engine
from pyoco.core.models import Flow, RunContext
from pyoco.core.models import RunStatus as PyocoRunStatus
from pyoco.core.models import TaskRecord as PyocoTaskRecord
from pyoco.core.models import TaskState as PyocoTaskState
from pyoco.trace.backend import TraceBackend

from pyoco_server.domain.errors import CallableNotAllowed, FlowNotFound, InvalidWorkflow
from pyoco_server.domain.records import Job
from pyoco_server.domain.snapshot import (
    MAX_ERROR_CHARS,
    MAX_TRACEBACK_CHARS,
    FailureReason,
    RunStatus,
    TaskRecord,
    TaskState,
    bounded_text,
)
from pyoco_worker import sandbox, threads
from pyoco_worker.execution import (
    EMPTY_PROGRESS,
    NO_CODE,
    Installed,
    LogSink,
    Outcome,
    Progress,
    ProgressCallback,
    RunControl,
)
from pyoco_worker.flows import FlowSource
from pyoco_worker.jsonable import MAX_VALUE_BYTES, bounded, to_json

Environment = Callable[[tuple[str, ...]], contextlib.AbstractContextManager[object]]
"""Sets the environment a run sees (the names its flow.yaml exposes) for the duration."""


class TaskObserver(Protocol):
    """Told on each task's own thread when it starts and ends (capture.py's `OutputCapture`)."""

    def task_started(self, name: str) -> None:
        """Task `name` starts on the calling thread."""

    def task_ended(self, name: str) -> None:
        """Task `name` ended (succeeded or failed for good) on the calling thread."""


class JobExecution:
    """One run of a job with pyoco, driven from one thread and cancellable from another.

    `changed` is called on pyoco's threads at every change: with the task's name, or None for
    the run's start and end.
    """

    def __init__(
        self,
        flows: FlowSource,
        job: Job,
        changed: Callable[[str | None], None],
        installed: Installed = NO_CODE,
        environment: Environment = lambda _names: contextlib.nullcontext(),
        tasks: TaskObserver | None = None,
        max_value_bytes: int = MAX_VALUE_BYTES,
    ) -> None:
        self._flows = flows
        self._max_value_bytes = max_value_bytes
        self._tasks = tasks
        self._job = job
        self._changed = changed
        self._installed = installed
        self._environment = environment
        self._run_ctx: RunContext | None = None
        self._reader: _RecordReader | None = None
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Ask pyoco to stop scheduling tasks (running task code is not interrupted)."""
        self._cancelled.set()
        self._mark_cancelling()

    def _mark_cancelling(self) -> None:
        # What Engine.cancel does, without its lookup: pyoco registers a run only after the
        # run's first event, so Engine.cancel would miss a cancel that came before it.
        run_ctx = self._run_ctx
        if run_ctx is not None and run_ctx.status == PyocoRunStatus.RUNNING:
            run_ctx.status = PyocoRunStatus.CANCELLING

    def progress(self) -> Progress:
        """Task states and records so far."""
        return self._reader.progress() if self._reader is not None else EMPTY_PROGRESS

    def task_states(self, names: Iterable[str] | None = None) -> dict[str, PyocoTaskState]:
        """Task states so far (of `names` only, if given), as pyoco keeps them, cheaply."""
        if self._reader is None:
            return {}
        return self._reader.states(names)

    def run(self) -> Outcome:
        """Build and run the flow; never raises for flow or task failures."""
        try:
            built = self._flows.build(self._job, self._installed)
        except FlowNotFound as exc:
            return _refused(FailureReason.FLOW_NOT_FOUND, exc.detail)
        except InvalidWorkflow as exc:
            return _refused(FailureReason.INVALID_WORKFLOW, exc.detail)
        except CallableNotAllowed as exc:
            return _refused(FailureReason.CALLABLE_NOT_ALLOWED, exc.detail)
        _keep_signatures(built.flow)
        run_ctx = RunContext(run_id=self._job.run_id)
        self._reader = _RecordReader(run_ctx, self._max_value_bytes)
        self._run_ctx = run_ctx
        if self._cancelled.is_set():
            self._mark_cancelling()  # pyoco then schedules no task
        engine = Engine(trace_backend=_Trace(self._on_event, self._tasks))
        try:
            with self._environment(built.expose_env), threads.lone_tasks_here():
                engine.run(built.flow, dict(self._job.params), run_ctx)
        except Exception as exc:  # task code may raise anything; it ends this run, not the worker
            progress = self.progress()
            return Outcome(
                RunStatus.FAILED,
                progress.tasks,
                progress.records,
                bounded_text(_describe(exc), MAX_ERROR_CHARS),
                FailureReason.EXECUTION_ERROR,
            )
        progress = self.progress()
        status = _final_status(run_ctx.status)
        reason = FailureReason.CANCELLED if status is RunStatus.CANCELLED else None
        return Outcome(status, progress.tasks, progress.records, reason=reason)

    def _on_event(self, task: str | None) -> None:
        self._changed(task)


class InProcessExecutor:
    """Runs flows with pyoco in a thread of the worker process, one at a time.

    No isolation: cancel and timeouts are cooperative only (pyoco stops scheduling tasks; a
    running task is not interrupted), and a crash in task code takes the worker down. It serves
    tests and the benchmark's in-process baseline; workers use `ProcessPool`.
    """

    def __init__(self, flows: FlowSource) -> None:
        self._flows = flows
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Nothing to start."""

    async def close(self) -> None:
        """Nothing to release."""

    def code_in_use(self) -> set[str]:
        """No wheels: this executor runs none."""
        return set()

    def extend_lease(self, until: float) -> None:
        """Nothing to do: runs here stop with the worker."""

    async def execute(
        self,
        job: Job,
        on_progress: ProgressCallback,
        control: RunControl,
        installed: Installed = NO_CODE,
        logs: LogSink | None = None,
    ) -> Outcome:
        """Run `job` in a thread; progress is relayed to the loop at most once per change burst.

        Registry wheels are not supported here (no process to put them on the path of), nor
        is output captured (`logs` gets nothing: tasks write to the worker's own streams).
        """
        async with self._lock:
            loop = asyncio.get_running_loop()
            relay = _ProgressRelay(loop, on_progress)
            execution = JobExecution(
                self._flows, job, lambda _task: relay.changed(execution.progress)
            )
            watcher = asyncio.create_task(_cancel_when_asked(control, execution))
            try:
                return await asyncio.to_thread(execution.run)
            finally:
                relay.close()
                watcher.cancel()


async def _cancel_when_asked(control: RunControl, execution: JobExecution) -> None:
    await control.requested.wait()
    execution.cancel()


class _ProgressRelay:
    """Carries 'something changed' from pyoco's threads to the loop, coalescing bursts."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_progress: ProgressCallback) -> None:
        self._loop = loop
        self._on_progress = on_progress
        self._latest: Callable[[], Progress] | None = None
        self._scheduled = False
        self._closed = False
        self._lock = threading.Lock()

    def changed(self, read: Callable[[], Progress]) -> None:
        with self._lock:
            self._latest = read
            if self._scheduled:
                return
            self._scheduled = True
        self._loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            self._scheduled = False
            read = self._latest
        if read is not None and not self._closed:
            self._on_progress(read())

    def close(self) -> None:
        self._closed = True


def run_job(
    flows: FlowSource, job: Job, changed: Callable[[Callable[[], Progress]], None]
) -> Outcome:
    """Build and run `job`'s flow synchronously (see `JobExecution.run`)."""
    execution = JobExecution(flows, job, lambda _task: changed(execution.progress))
    return execution.run()


def _refused(reason: FailureReason, detail: str) -> Outcome:
    """The outcome of a job whose flow could not even be built."""
    return Outcome(
        RunStatus.FAILED, {}, {}, bounded_text(f"{reason.value}: {detail}", MAX_ERROR_CHARS), reason
    )


def _describe(exc: BaseException) -> str:
    text = str(exc)
    described = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, MemoryError):
        described += sandbox.memory_limit_note()
    return described


def _final_status(status: PyocoRunStatus) -> RunStatus:
    if status in (PyocoRunStatus.CANCELLING, PyocoRunStatus.CANCELLED):
        return RunStatus.CANCELLED
    if status is PyocoRunStatus.FAILED:
        return RunStatus.FAILED
    return RunStatus.COMPLETED


class _Trace(TraceBackend):
    """pyoco trace callbacks: each says what changed (a task, or None: the run).

    A task's also tell `tasks`. pyoco calls a task's start, end and final error on the thread
    that runs the task, the end and the error just before it sets the task's state.
    """

    def __init__(
        self, changed: Callable[[str | None], None], tasks: TaskObserver | None = None
    ) -> None:
        self._changed = changed
        self._tasks = tasks

    def on_flow_start(self, flow_name: str, run_id: str | None = None) -> None:
        self._changed(None)

    def on_flow_end(self, flow_name: str) -> None:
        self._changed(None)

    def on_node_start(self, node_name: str) -> None:
        if self._tasks is not None:
            self._tasks.task_started(node_name)
        self._changed(node_name)

    def on_node_end(self, node_name: str, duration_ms: float) -> None:
        self._changed(node_name)
        if self._tasks is not None:
            self._tasks.task_ended(node_name)

    def on_node_error(self, node_name: str, error: Exception) -> None:
        self._changed(node_name)
        if self._tasks is not None:
            self._tasks.task_ended(node_name)


def _keep_signatures(flow: Flow) -> None:
    """Give each task's function its signature as `__signature__`, once.

    pyoco's engine calls `inspect.signature` on a task's function every time the task runs (to
    pass `ctx` and wire params by name): a tenth to a fifth of a trivial task's cost in a run
    process. `inspect.signature` returns a `__signature__` it finds at once, and the one kept is
    the one it computes. A function that takes no attributes, or that `inspect` cannot read, is
    left alone (pyoco then asks `inspect` each time, as before).
    """
    for task in flow.tasks:
        func = task.func
        try:
            if "__signature__" not in vars(func):
                func.__signature__ = inspect.signature(func)
        except (TypeError, ValueError, AttributeError):
            continue


class _RecordReader:
    """Reads a pyoco RunContext into our records, converting each task output once.

    Progress reads run on the event loop while pyoco's threads update the records field by
    field, so a read may see a record half-updated; only the conversion of an output object is
    reused, never a whole record.
    """

    def __init__(self, run_ctx: RunContext, max_value_bytes: int) -> None:
        self._run_ctx = run_ctx
        self._max_value_bytes = max_value_bytes
        self._outputs: dict[str, tuple[object, object, bool]] = {}

    def states(self, names: Iterable[str] | None = None) -> dict[str, PyocoTaskState]:
        tasks = self._run_ctx.tasks
        if names is None:
            return dict(tasks)
        return {name: tasks[name] for name in names if name in tasks}

    def progress(self) -> Progress:
        tasks = {name: TaskState(state.value) for name, state in dict(self._run_ctx.tasks).items()}
        records = {
            name: self._record(name, record)
            for name, record in dict(self._run_ctx.task_records).items()
        }
        return Progress(tasks, records)

    def _record(self, name: str, record: PyocoTaskRecord) -> TaskRecord:
        state = TaskState(record.state.value)
        output, converted = (
            self._output(name, record.output) if state is TaskState.SUCCEEDED else (None, False)
        )
        inputs, _ = to_json(dict(record.inputs))
        limit = self._max_value_bytes
        inputs = {key: bounded(value, False, limit)[0] for key, value in inputs.items()}
        return TaskRecord(
            state=state,
            started_at=record.started_at,
            ended_at=record.ended_at,
            duration_ms=record.duration_ms,
            error=bounded_text(record.error, MAX_ERROR_CHARS),
            traceback=bounded_text(record.traceback, MAX_TRACEBACK_CHARS),
            inputs=inputs,
            output=output,
            output_converted=converted,
        )

    def _output(self, name: str, raw: object) -> tuple[object, bool]:
        cached = self._outputs.get(name)
        if cached is not None and cached[0] is raw:
            return cached[1], cached[2]
        output, converted = bounded(*to_json(raw), self._max_value_bytes)
        self._outputs[name] = (raw, output, converted)
        return output, converted
