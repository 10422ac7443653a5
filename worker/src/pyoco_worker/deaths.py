"""What the end of a run means: the outcome of a run whose process finished, was stopped or died.

The pool calls `finished` when a run process reports its own outcome, and `settle_death` when the
process died mid-run (its pipe closed): stopped on purpose (a cancel, a timeout, a shutdown), or
crashed on its own (`os._exit`, a segfault, the OOM killer). The tasks' last states come from the
progress reports and the process's shared state buffer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import time
from collections.abc import Mapping

from pyoco_server.domain.errors import RunAbandoned
from pyoco_server.domain.records import Job
from pyoco_server.domain.snapshot import FailureReason, RunStatus, TaskRecord, TaskState
from pyoco_worker.execution import (
    EMPTY_PROGRESS,
    Outcome,
    Progress,
    RunControl,
    StopReason,
    timeout_message,
)
from pyoco_worker.process import RunProcess

log = logging.getLogger(__name__)

_UNFINISHED = (TaskState.PENDING, TaskState.RUNNING)


@dataclasses.dataclass
class RunState:
    """What the pool knows about the run in one process."""

    job: Job
    control: RunControl
    ended: asyncio.Future[tuple[Outcome, bool]]
    progress: Progress = EMPTY_PROGRESS
    stopping: StopReason | None = None
    timers: list[asyncio.TimerHandle] = dataclasses.field(default_factory=list)


async def settle_death(child: RunProcess, state: RunState) -> None:
    """The child died mid-run: end the run with the outcome its death means."""
    try:
        outcome = await _died(child, state)
    except RunAbandoned as exc:
        if not state.ended.done():
            state.ended.set_exception(exc)
        return
    if not state.ended.done():
        state.ended.set_result((outcome, False))


def finished(outcome: Outcome, state: RunState) -> Outcome:
    """The child's own outcome, adjusted when the run ended because it was told to stop."""
    if state.stopping is StopReason.TIMEOUT and outcome.status is RunStatus.CANCELLED:
        return dataclasses.replace(
            outcome,
            status=RunStatus.FAILED,
            reason=FailureReason.TIMEOUT,
            error=_timeout_error(state),
        )
    return outcome


def broke_protocol(state: RunState, detail: str) -> Outcome:
    """The outcome of a run whose process sent something that is not a message (it is killed).

    Only task code that writes to the process's pipe does that; the run fails as crashed.
    """
    error = f"the run's process broke the protocol with its worker ({detail})"
    log.warning("run %s: %s", state.job.run_id, error)
    return _stopped(
        state, dict(state.progress.tasks), RunStatus.FAILED, FailureReason.CRASHED, error
    )


async def _died(child: RunProcess, state: RunState) -> Outcome:
    code = await child.exit_code()
    if state.stopping is StopReason.SHUTDOWN:
        raise RunAbandoned(f"run {state.job.run_id} stopped by the worker's shutdown")
    if state.stopping is StopReason.ABANDONED:
        raise RunAbandoned(f"run {state.job.run_id} stopped: a newer attempt owns it")
    if child.lease_ran_out():
        raise RunAbandoned(
            f"run {state.job.run_id} stopped itself: this worker did not renew its lease in time"
        )
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
    state: RunState,
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


def _timeout_error(state: RunState) -> str:
    return timeout_message(state.control)


def _exit_text(code: int | None) -> str:
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
