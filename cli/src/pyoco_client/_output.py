"""What the commands print for scripts: one JSON document per line, flushed line by line.

JSON keys are those of the API, so they stay stable as long as it does; a stream (`watch`)
prints one document per event. Text for people (tables) is in `_tables`.
"""

from __future__ import annotations

import json
from typing import Any

import click

from pyoco_client._runview import state_note
from pyoco_client._sse import WatchEvent

JsonObject = dict[str, Any]

OUTPUT_JSON_OR_TABLE = click.Choice(["json", "table"])
"""The `--output` of the listing commands."""


def emit(document: Any) -> None:
    """Print `document` as JSON on one line (UTF-8 as is, not escaped)."""
    click.echo(json.dumps(document, ensure_ascii=False))


def run_result(snapshot: JsonObject) -> JsonObject:
    """What `submit --wait` prints of a run that ended: its status, its tasks' outputs, why.

    `outputs` maps each task that returned to its return value (as JSON); `error` and
    `error_reason` say why a run failed or was cancelled, and are null otherwise.
    """
    records = snapshot.get("task_records") or {}
    return {
        "run_id": snapshot["run_id"],
        "status": snapshot["status"],
        "outputs": {
            name: record.get("output")
            for name, record in records.items()
            if record.get("state") == "SUCCEEDED"
        },
        "error": snapshot.get("error"),
        "error_reason": snapshot.get("error_reason"),
    }


def status_line(event: WatchEvent) -> str:
    """A watch event as `ts<TAB>event<TAB>status<TAB>run_id` (status `-` for a heartbeat).

    A PENDING run that waits, or a CANCELLING one, gets a fifth field saying why (`state_note`).
    """
    line = f"{event.ts:.3f}\t{event.event}\t{event.status or '-'}\t{event.run_id}"
    note = None if event.snapshot is None else state_note(event.snapshot)
    return line if note is None else f"{line}\t{note}"


def warn(accepted: JsonObject) -> None:
    """Print an accepted run's `warnings` on stderr, `warning: ...` one a line."""
    for warning in accepted.get("warnings") or ():
        click.echo(f"warning: {' '.join(str(warning).splitlines())}", err=True)
