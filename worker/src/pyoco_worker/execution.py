"""Executing a job's flow with pyoco and reporting what happens, as plain data.

`Executor` is the seam between the worker loop and the place runs execute. `InProcessExecutor`
runs the flow with pyoco's `Engine` in a worker thread of this process, one run at a time (pyoco
redirects the process's stdout during a run, so concurrent in-process runs would tangle it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Protocol

from pyoco.core.engine import Engine
from pyoco.core.models import RunContext
from pyoco.core.models import RunStatus as PyocoRunStatus
from pyoco.core.models import TaskRecord as PyocoTaskRecord
from pyoco.trace.backend import TraceBackend

from pyoco_server.errors import FlowNotFound, InvalidWorkflow
from pyoco_server.messages import Job
from pyoco_server.snapshot import FailureReason, RunStatus, TaskRecord, TaskState
from pyoco_worker.flows import FlowSource
from pyoco_worker.jsonable import to_json


@dataclasses.dataclass(frozen=True, slots=True)
class Progress:
    """Task states and records of a run in progress."""

    tasks: Mapping[str, TaskState]
    records: Mapping[str, TaskRecord]


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """How a run ended."""

    status: RunStatus
    tasks: Mapping[str, TaskState]
    records: Mapping[str, TaskRecord]
    error: str | None = None
    reason: FailureReason | None = None


ProgressCallback = Callable[[Progress], None]


class Executor(Protocol):
    """Runs jobs' flows and reports progress on the event loop."""

    async def execute(self, job: Job, on_progress: ProgressCallback) -> Outcome:
        """Run `job` to its end; `on_progress` is called (on the loop) as tasks change."""


class InProcessExecutor:
    """Runs flows with pyoco in a thread of the worker process, one at a time."""

    def __init__(self, flows: FlowSource) -> None:
        self._flows = flows
        self._lock = asyncio.Lock()

    async def execute(self, job: Job, on_progress: ProgressCallback) -> Outcome:
        """Run `job` in a thread; progress is relayed to the loop at most once per change burst."""
        async with self._lock:
            relay = _ProgressRelay(asyncio.get_running_loop(), on_progress)
            outcome = await asyncio.to_thread(run_job, self._flows, job, relay.changed)
            relay.close()
            return outcome


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
    """Build and run `job`'s flow synchronously; never raises for flow or task failures."""
    try:
        flow = flows.build(job)
    except FlowNotFound as exc:
        return Outcome(
            RunStatus.FAILED, {}, {}, f"flow_not_found: {exc.detail}", FailureReason.FLOW_NOT_FOUND
        )
    except InvalidWorkflow as exc:
        return Outcome(
            RunStatus.FAILED,
            {},
            {},
            f"invalid_workflow: {exc.detail}",
            FailureReason.INVALID_WORKFLOW,
        )
    run_ctx = RunContext(run_id=job.run_id)
    reader = _RecordReader(run_ctx)
    engine = Engine(trace_backend=_Trace(lambda: changed(reader.progress)))
    try:
        engine.run(flow, dict(job.params), run_ctx)
    except Exception as exc:  # task code may raise anything; it ends this run, not the worker
        progress = reader.progress()
        return Outcome(
            RunStatus.FAILED,
            progress.tasks,
            progress.records,
            _describe(exc),
            FailureReason.EXECUTION_ERROR,
        )
    progress = reader.progress()
    status = _final_status(run_ctx.status)
    return Outcome(status, progress.tasks, progress.records)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _final_status(status: PyocoRunStatus) -> RunStatus:
    if status in (PyocoRunStatus.CANCELLING, PyocoRunStatus.CANCELLED):
        return RunStatus.CANCELLED
    if status is PyocoRunStatus.FAILED:
        return RunStatus.FAILED
    return RunStatus.COMPLETED


class _Trace(TraceBackend):
    """pyoco trace callbacks: each only says 'something changed'."""

    def __init__(self, changed: Callable[[], None]) -> None:
        self._changed = changed

    def on_flow_start(self, flow_name: str, run_id: str | None = None) -> None:
        self._changed()

    def on_flow_end(self, flow_name: str) -> None:
        self._changed()

    def on_node_start(self, node_name: str) -> None:
        self._changed()

    def on_node_end(self, node_name: str, duration_ms: float) -> None:
        self._changed()

    def on_node_error(self, node_name: str, error: Exception) -> None:
        self._changed()


class _RecordReader:
    """Reads a pyoco RunContext into our records, converting each task output once.

    Progress reads run on the event loop while pyoco's threads update the records field by
    field, so a read may see a record half-updated; only the conversion of an output object is
    reused, never a whole record.
    """

    def __init__(self, run_ctx: RunContext) -> None:
        self._run_ctx = run_ctx
        self._outputs: dict[str, tuple[object, object, bool]] = {}

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
        return TaskRecord(
            state=state,
            started_at=record.started_at,
            ended_at=record.ended_at,
            duration_ms=record.duration_ms,
            error=record.error,
            traceback=record.traceback,
            inputs=inputs,
            output=output,
            output_converted=converted,
        )

    def _output(self, name: str, raw: object) -> tuple[object, bool]:
        cached = self._outputs.get(name)
        if cached is not None and cached[0] is raw:
            return cached[1], cached[2]
        output, converted = to_json(raw)
        self._outputs[name] = (raw, output, converted)
        return output, converted
