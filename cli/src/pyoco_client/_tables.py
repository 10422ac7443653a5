"""Tables for people (`--output table`), drawn with rich to fit the terminal (80 columns too).

Ids are never cut, so they can be copied; longer free-text columns give way first. Statuses are
coloured when stdout is a terminal (rich leaves colour out otherwise, and under NO_COLOR). An
empty listing prints `(no items)`; a listing with more pages ends with `next_cursor: <cursor>`,
to pass back with --cursor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

JsonObject = dict[str, Any]

STATUS_STYLES: dict[str, str] = {
    "PENDING": "blue",
    "RUNNING": "cyan",
    "CANCELLING": "magenta",
    "COMPLETED": "green",
    "FAILED": "bold red",
    "CANCELLED": "yellow",
    "IDLE": "green",
    "STOPPED_GRACEFUL": "dim",
    "DISCONNECTED": "bold red",
}
"""Colour of each run status and worker state."""

_Column = tuple[str, Callable[[JsonObject], Text | str], dict[str, Any]]
"""A column: its header, how to render a row's cell, and rich's column options."""

_ID = {"no_wrap": True, "overflow": "fold"}
_SHORT = {"no_wrap": True}
_FREE = {"overflow": "fold", "min_width": 6}


def print_runs(items: Sequence[JsonObject], next_cursor: str | None = None) -> None:
    """Runs: run_id, status, flow (flow_name), tag, updated (updated_at)."""
    _print(
        items,
        [
            ("run_id", lambda run: run["run_id"], _ID),
            ("status", lambda run: status_text(run["status"]), _SHORT),
            ("flow", lambda run: run["flow_name"], _FREE),
            ("tag", lambda run: run["tag"], _FREE),
            ("updated", lambda run: when(run.get("updated_at")), _SHORT),
        ],
        next_cursor,
    )


def print_workers(items: Sequence[JsonObject]) -> None:
    """Workers: worker_id, state, tags, runs (now/concurrency), last_seen; hidden ones dim."""
    _print(
        items,
        [
            ("worker_id", lambda worker: worker["worker_id"], _ID),
            ("state", lambda worker: status_text(worker["state"]), _SHORT),
            ("tags", lambda worker: ",".join(worker.get("tags", [])), _FREE),
            ("runs", _worker_runs, _SHORT),
            ("last_seen", lambda worker: when(worker.get("last_seen_at")), _SHORT),
        ],
    )


def print_dead_letters(items: Sequence[JsonObject], next_cursor: str | None = None) -> None:
    """Dead letters: id, reason, tag, run_id, time (timestamp)."""
    _print(
        items,
        [
            ("id", lambda letter: letter["id"], _ID),
            ("reason", lambda letter: letter["reason"], _FREE),
            ("tag", lambda letter: letter["tag"], _FREE),
            ("run_id", lambda letter: letter.get("run_id") or "-", _ID),
            ("time", lambda letter: when(letter.get("timestamp")), _SHORT),
        ],
        next_cursor,
    )


def print_wheels(items: Sequence[JsonObject]) -> None:
    """Wheels: name, version, tags, size, uploaded."""
    _print(
        items,
        [
            ("name", lambda wheel: wheel["name"], _ID),
            ("version", lambda wheel: wheel.get("version", "-"), _SHORT),
            ("tags", lambda wheel: ",".join(wheel.get("tags", [])) or "(all)", _FREE),
            ("bytes", lambda wheel: str(wheel.get("size_bytes", "-")), _SHORT),
            ("uploaded", lambda wheel: when(wheel.get("uploaded_at")), _SHORT),
        ],
    )


def status_text(status: str | None) -> Text:
    """A run status or worker state, in its colour."""
    return Text(status or "-", style=STATUS_STYLES.get(status or "", ""))


def when(timestamp: float | None) -> str:
    """A Unix time as local "MM-DD HH:MM:SS" (short enough for 80 columns)."""
    if timestamp is None:
        return "-"
    return time.strftime("%m-%d %H:%M:%S", time.localtime(timestamp))


def _worker_runs(worker: JsonObject) -> str:
    return f"{len(worker.get('current_run_ids', []))}/{worker.get('concurrency', '?')}"


def _print(
    items: Sequence[JsonObject], columns: Sequence[_Column], next_cursor: str | None = None
) -> None:
    if not items:
        click.echo("(no items)")
    else:
        table = Table(box=None, padding=(0, 2, 0, 0), pad_edge=False, header_style="bold")
        for header, _, options in columns:
            table.add_column(header, **options)
        for item in items:
            style = "dim" if item.get("hidden") else None
            table.add_row(*(cell(item) for _, cell, _ in columns), style=style)
        Console(highlight=False).print(table)
    if next_cursor is not None:
        click.echo(f"next_cursor: {next_cursor}")
