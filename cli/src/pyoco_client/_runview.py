"""One run for people: `get --output table`, `tasks --output table`, and why a run waits or stops.

`state_note` says in a line why a PENDING run has not started (the server's `waiting.detail`:
no live worker for its tag, busy workers with N jobs ahead, a retry due at T) and why a run is
CANCELLING (a cancel or its time limit, and when its process is killed). `get` shows it under
the status, `watch --output status` after it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.text import Text

from pyoco_client._tables import Column, Kind, print_fields, print_items, status_text, when

JsonObject = dict[str, Any]

_STOPPING = {
    "cancel": "a cancel was asked for",
    "timeout": "it went over its time limit (timeout_sec)",
}


def state_note(snapshot: JsonObject) -> str | None:
    """Why the run waits (PENDING) or is being stopped (CANCELLING), for a person; else None."""
    waiting = snapshot.get("waiting")
    if snapshot.get("status") == "PENDING" and waiting:
        return str(waiting["detail"])
    stopping = snapshot.get("stopping")
    if snapshot.get("status") == "CANCELLING" and stopping:
        why = _STOPPING.get(stopping["reason"], stopping["reason"])
        deadline = stopping.get("deadline_at")
        kill = f"; its process is killed at {when(deadline)} if still running" if deadline else ""
        return f"stopping: {why}{kill}"
    return None


def print_run(snapshot: JsonObject) -> None:
    """A run's snapshot as `name  value` lines: what it is, where it got to, its tasks."""
    fields: list[tuple[str, Text | str]] = [
        ("run_id", snapshot["run_id"]),
        ("status", status_text(snapshot["status"])),
    ]
    if (note := state_note(snapshot)) is not None:
        fields.append(("", note))
    fields += [
        ("flow", snapshot["flow_name"]),
        ("tag", snapshot["tag"]),
        ("labels", ",".join(snapshot.get("tags") or []) or "-"),
        ("params", json.dumps(snapshot.get("params") or {}, ensure_ascii=False)),
    ]
    fields += _optional(snapshot)
    fields += [(f"task {name}", status_text(state)) for name, state in _tasks(snapshot)]
    print_fields(fields)


def print_tasks(document: JsonObject) -> None:
    """A run's tasks (`GET /runs/{run_id}/tasks`) as a table: state, times, error."""
    records = document.get("task_records") or {}
    items = [
        {"task": name, "state": state, **records.get(name, {})} for name, state in _tasks(document)
    ]
    columns = [
        Column("task", lambda task: task["task"]),
        Column("state", lambda task: status_text(task["state"]), Kind.WHOLE),
        Column("started", lambda task: when(task.get("started_at")), Kind.TIME),
        Column("ended", lambda task: when(task.get("ended_at")), Kind.TIME),
        Column("ms", lambda task: _milliseconds(task.get("duration_ms")), Kind.WHOLE),
        Column("error", lambda task: task.get("error") or "-"),
    ]
    print_items(items, columns)


def _optional(snapshot: JsonObject) -> list[tuple[str, Text | str]]:
    """The fields a run has only at some point of its life, in that order, when set."""
    values = [
        ("submitted", _time(snapshot.get("submitted_at"))),
        ("started", _time(snapshot.get("start_time"))),
        ("ended", _time(snapshot.get("end_time"))),
        ("updated", _time(snapshot.get("updated_at"))),
        ("worker", snapshot.get("worker_id")),
        ("attempt", str(snapshot["attempt"]) if snapshot.get("attempt") else None),
        ("timeout", _seconds(snapshot.get("timeout_sec"))),
        ("error", snapshot.get("error_reason")),
        ("", snapshot.get("error")),
        ("cancel", snapshot.get("cancel_reason")),
        ("rerun_of", snapshot.get("rerun_of")),
    ]
    return [(name, value) for name, value in values if value]


def _tasks(document: JsonObject) -> Sequence[tuple[str, str]]:
    tasks: dict[str, str] = document.get("tasks") or {}
    return list(tasks.items())


def _time(value: float | None) -> str | None:
    return None if value is None else when(value)


def _seconds(value: float | None) -> str | None:
    return None if value is None else f"{value:g} s"


def _milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
