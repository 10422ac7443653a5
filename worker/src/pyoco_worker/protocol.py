"""The messages between the worker and a run process, as typed values, and their encoding.

Two pipes connect them (see child.py), carrying length-prefixed frames (framing.py). On the job
pipe the worker sends `RunJob`; the run process answers `Ready` once started, `ProgressReport`
when asked, and `Finished` when the run ended. On the control pipe the worker sends `Cancel` and
`ProgressRequest`, which the run process reads in a helper thread while pyoco runs.

What the worker sends is pickled (the run process trusts its worker). What a run process sends
is JSON, checked field by field when it is read: the run process executes task code, and a
pickle from it would run code in the worker, which holds NATS credentials. A message that does
not decode is a `ProtocolError`; the worker then ends the run and replaces the process.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from pyoco_server.domain.codec import dumps, loads
from pyoco_server.domain.records import Job
from pyoco_server.domain.snapshot import FailureReason, RunStatus, TaskRecord, TaskState
from pyoco_worker.execution import NO_CODE, Installed, Outcome, Progress


@dataclasses.dataclass(frozen=True, slots=True)
class RunJob:
    """Worker → run process: run this job, with these registry wheels."""

    job: Job
    installed: Installed = NO_CODE


@dataclasses.dataclass(frozen=True, slots=True)
class Ready:
    """Run process → worker: started, waiting for a job."""


@dataclasses.dataclass(frozen=True, slots=True)
class ProgressReport:
    """Run process → worker: the task states and records of `run_id` so far."""

    run_id: str
    progress: Progress


@dataclasses.dataclass(frozen=True, slots=True)
class Finished:
    """Run process → worker: the run ended so."""

    outcome: Outcome


@dataclasses.dataclass(frozen=True, slots=True)
class Cancel:
    """Worker → run process (control): ask pyoco to stop `run_id`."""

    run_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class ProgressRequest:
    """Worker → run process (control): send a `ProgressReport` of `run_id` if it changed."""

    run_id: str


FromChild = Ready | ProgressReport | Finished
"""What a run process sends on the job pipe."""

Control = Cancel | ProgressRequest
"""What the worker sends on the control pipe."""


class ProtocolError(ValueError):
    """A run process sent something that is not one of its messages."""


def encode_from_child(message: FromChild) -> bytes:
    """A run process's message as JSON."""
    match message:
        case Ready():
            return b'{"type":"ready"}'
        case ProgressReport(run_id=run_id, progress=progress):
            data = {"type": "progress", "run_id": run_id, **_progress_dict(progress)}
        case Finished(outcome=outcome):
            data = {
                "type": "finished",
                "status": outcome.status.value,
                "error": outcome.error,
                "reason": outcome.reason.value if outcome.reason else None,
                **_progress_dict(Progress(outcome.tasks, outcome.records)),
            }
    return dumps(data)


def decode_from_child(raw: bytes) -> FromChild:
    """A run process's message (`ProtocolError` when it is not one)."""
    try:
        data = loads(raw)
        kind = data["type"]
        if kind == "ready":
            return Ready()
        if kind == "progress":
            return ProgressReport(_text(data["run_id"]), _progress(data))
        if kind == "finished":
            progress = _progress(data)
            reason = data.get("reason")
            return Finished(
                Outcome(
                    RunStatus(data["status"]),
                    progress.tasks,
                    progress.records,
                    _optional_text(data.get("error")),
                    None if reason is None else FailureReason(reason),
                )
            )
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise ProtocolError(f"not a run process message ({type(exc).__name__}: {exc})") from None
    raise ProtocolError(f"unknown message type {kind!r}")


def _progress_dict(progress: Progress) -> dict[str, Any]:
    return {
        "tasks": {name: state.value for name, state in progress.tasks.items()},
        "records": {name: _record_dict(record) for name, record in progress.records.items()},
    }


def _record_dict(record: TaskRecord) -> dict[str, Any]:
    return {
        "state": record.state.value,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "duration_ms": record.duration_ms,
        "error": record.error,
        "traceback": record.traceback,
        "inputs": dict(record.inputs),
        "output": record.output,
        "output_converted": record.output_converted,
    }


def _progress(data: Mapping[str, Any]) -> Progress:
    tasks, records = data["tasks"], data["records"]
    if not isinstance(tasks, dict) or not isinstance(records, dict):
        raise TypeError("tasks and records must be objects")
    return Progress(
        {_text(name): TaskState(state) for name, state in tasks.items()},
        {_text(name): _record(record) for name, record in records.items()},
    )


def _record(data: Mapping[str, Any]) -> TaskRecord:
    inputs = data.get("inputs", {})
    if not isinstance(inputs, dict) or not isinstance(data.get("output_converted", False), bool):
        raise TypeError("a task record's inputs must be an object, output_converted a boolean")
    return TaskRecord(
        TaskState(data["state"]),
        started_at=_optional_number(data.get("started_at")),
        ended_at=_optional_number(data.get("ended_at")),
        duration_ms=_optional_number(data.get("duration_ms")),
        error=_optional_text(data.get("error")),
        traceback=_optional_text(data.get("traceback")),
        inputs=inputs,
        output=data.get("output"),
        output_converted=data.get("output_converted", False),
    )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _optional_number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)
