"""The messages between the worker and a run process, as typed values, and their encoding.

Two pipes connect them (see child.py), carrying length-prefixed frames (framing.py). On the job
pipe the worker sends `RunJob`; the run process answers `Ready` once started, `ProgressReport`
when asked, and `Finished` when the run ended. On the control pipe the worker sends `Cancel` and
`ProgressRequest`, which the run process reads in a helper thread while pyoco runs. While a run
prints or logs, the run process also sends `LogBatch`es of its lines (capture.py), always before
the run's `Finished`; after `Ready` and before a `Finished` it says which task files it loaded
(`Imported`, taskfiles.py), if any.

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
from pyoco_server.domain.copies import pickled_by_slots
from pyoco_server.domain.records import Job, LogStream
from pyoco_server.domain.snapshot import FailureReason, RunStatus, TaskRecord, TaskState
from pyoco_worker.execution import NO_CODE, Installed, LogBatch, LogLine, Outcome, Progress
from pyoco_worker.taskfiles import CodeFile, files_data, files_from_data


@pickled_by_slots
@dataclasses.dataclass(frozen=True, slots=True)
class RunJob:
    """Worker → run process: run this job, with these registry wheels."""

    job: Job
    installed: Installed = NO_CODE
    pins: tuple[CodeFile, ...] = ()
    """Task files to keep at these versions from now on (reload off; see taskfiles.py)."""


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


@pickled_by_slots
@dataclasses.dataclass(frozen=True, slots=True)
class Cancel:
    """Worker → run process (control): ask pyoco to stop `run_id`."""

    run_id: str


@pickled_by_slots
@dataclasses.dataclass(frozen=True, slots=True)
class ProgressRequest:
    """Worker → run process (control): send a `ProgressReport` of `run_id` if it changed."""

    run_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class Imported:
    """Run process → worker: task files it loaded since it last said (taskfiles.py)."""

    files: tuple[CodeFile, ...]


FromChild = Ready | ProgressReport | Finished | LogBatch | Imported
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
        case Imported(files=files):
            data = {"type": "imported", "files": files_data(files)}
        case LogBatch(run_id=run_id, lines=lines, dropped=dropped):
            data = {
                "type": "logs",
                "run_id": run_id,
                "dropped": dropped,
                "lines": _lines_data(lines),
            }
    return dumps(data)


def _lines_data(lines: tuple[LogLine, ...]) -> list[list[Any]]:
    """Lines as compact JSON arrays (`task, stream, message, ts, level, logger`)."""
    return [
        [line.task, line.stream.value, line.message, line.ts, line.level, line.logger]
        for line in lines
    ]


def decode_from_child(raw: bytes) -> FromChild:
    """A run process's message (`ProtocolError` when it is not one)."""
    try:
        data = loads(raw)
        kind = data["type"]
        if kind == "ready":
            return Ready()
        if kind == "progress":
            return ProgressReport(_text(data["run_id"]), _progress(data))
        if kind == "imported":
            return Imported(files_from_data(data["files"]))
        if kind == "logs":
            return _log_batch(data)
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


_CHILD_STREAMS = frozenset({LogStream.STDOUT, LogStream.STDERR, LogStream.LOG})
"""What a run process may say a line came from (`system` records are the worker's)."""


def _log_batch(data: Mapping[str, Any]) -> LogBatch:
    dropped, lines = data["dropped"], data["lines"]
    if isinstance(dropped, bool) or not isinstance(dropped, int) or dropped < 0:
        raise TypeError("dropped must be a whole number, 0 or more")
    if not isinstance(lines, list):
        raise TypeError("lines must be an array")
    return LogBatch(_text(data["run_id"]), tuple(_log_line(line) for line in lines), dropped)


def _log_line(data: Any) -> LogLine:
    if not isinstance(data, list) or len(data) != 6:
        raise TypeError("a line must be an array of 6 items")
    task, stream, message, ts, level, logger = data
    source = LogStream(stream)
    if source not in _CHILD_STREAMS:
        raise ValueError(f"a run process cannot send {stream!r} lines")
    timestamp = _optional_number(ts)
    if timestamp is None:
        raise TypeError("a line needs a time")
    return LogLine(
        _optional_text(task),
        source,
        _text(message),
        timestamp,
        _optional_text(level),
        _optional_text(logger),
    )


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
