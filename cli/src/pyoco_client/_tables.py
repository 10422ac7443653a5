"""Tables for people (`--output table`), drawn with rich to fit the terminal.

Ids are never cut, so they can be copied whole; times are local ISO 8601 (2026-11-30T14:05:09).
When a table is wider than the terminal, free text (flow names, error reasons) wraps first, then
each time is split onto two lines (date, then time of day); a terminal too narrow even for that
(60 columns, say) gets each item as a block of `name  value` lines instead. Statuses are coloured
when stdout is a terminal (rich leaves colour out otherwise, and under NO_COLOR). An empty
listing prints `(no items)`; a listing with more pages ends with `next_cursor: <cursor>`, to
pass back with --cursor. The layouts of one run and of its tasks are in `_runview`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
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
    "SUCCEEDED": "green",
    "IDLE": "green",
    "STOPPED_GRACEFUL": "dim",
    "DISCONNECTED": "bold red",
}
"""Colour of each run status, task state and worker state."""

_GAP = 2
"""Spaces between two columns."""

_TEXT_MIN = 6
"""Free text wraps down to this width (or its own, when shorter)."""

_DATE = len("2026-11-30")


class Kind(Enum):
    """How a column may give way when the table is too wide."""

    WHOLE = "whole"  # ids, statuses: never cut nor wrapped
    TIME = "time"  # a time: on two lines (date, time of day) when space is short
    TEXT = "text"  # free text: wraps


@dataclass(frozen=True)
class Column:
    """A column: its header, how to render an item's cell, how it gives way."""

    header: str
    cell: Callable[[JsonObject], Text | str]
    kind: Kind = Kind.TEXT


def print_items(
    items: Sequence[JsonObject], columns: Sequence[Column], next_cursor: str | None = None
) -> None:
    """Print `items` as a table of `columns` that fits the terminal (see the module docstring)."""
    if not items:
        click.echo("(no items)")
    else:
        table, width = _layout(items, columns, Console().width)
        Console(highlight=False, width=width).print(table)
    if next_cursor is not None:
        click.echo(f"next_cursor: {next_cursor}")


def print_runs(items: Sequence[JsonObject], next_cursor: str | None = None) -> None:
    """Runs: run_id, status, flow (flow_name), tag, updated (updated_at), error (error_reason)."""
    columns = [
        Column("run_id", lambda run: run["run_id"], Kind.WHOLE),
        Column("status", lambda run: status_text(run["status"]), Kind.WHOLE),
        Column("flow", lambda run: run["flow_name"]),
        Column("tag", lambda run: run["tag"]),
        Column("updated", lambda run: when(run.get("updated_at")), Kind.TIME),
        Column("error", lambda run: run.get("error_reason") or "-"),
    ]
    print_items(items, columns, next_cursor)


def print_workers(items: Sequence[JsonObject]) -> None:
    """Workers: worker_id, state, tags, runs (now/concurrency), last_seen; hidden ones dim."""
    columns = [
        Column("worker_id", lambda worker: worker["worker_id"], Kind.WHOLE),
        Column("state", lambda worker: status_text(worker["state"]), Kind.WHOLE),
        Column("tags", lambda worker: ",".join(worker.get("tags", []))),
        Column("runs", _worker_runs, Kind.WHOLE),
        Column("last_seen", lambda worker: when(worker.get("last_seen_at")), Kind.TIME),
    ]
    print_items(items, columns)


def print_dead_letters(items: Sequence[JsonObject], next_cursor: str | None = None) -> None:
    """Dead letters: id, reason, tag, run_id, time (timestamp)."""
    columns = [
        Column("id", lambda letter: letter["id"], Kind.WHOLE),
        Column("reason", lambda letter: letter["reason"]),
        Column("tag", lambda letter: letter["tag"]),
        Column("run_id", lambda letter: letter.get("run_id") or "-", Kind.WHOLE),
        Column("time", lambda letter: when(letter.get("timestamp")), Kind.TIME),
    ]
    print_items(items, columns, next_cursor)


def print_wheels(items: Sequence[JsonObject]) -> None:
    """Wheels: name, version, tags, bytes (size_bytes), uploaded (uploaded_at)."""
    columns = [
        Column("name", lambda wheel: wheel["name"], Kind.WHOLE),
        Column("version", lambda wheel: wheel.get("version", "-"), Kind.WHOLE),
        Column("tags", lambda wheel: ",".join(wheel.get("tags", [])) or "(all)"),
        Column("bytes", lambda wheel: str(wheel.get("size_bytes", "-")), Kind.WHOLE),
        Column("uploaded", lambda wheel: when(wheel.get("uploaded_at")), Kind.TIME),
    ]
    print_items(items, columns)


def print_fields(fields: Sequence[tuple[str, Text | str]]) -> None:
    """Print one item as `name  value` lines (values wrap; ids and times stay whole)."""
    table = Table.grid(padding=(0, _GAP, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in fields:
        table.add_row(name, value)
    Console(highlight=False).print(table)


def status_text(status: str | None) -> Text:
    """A run status, task state or worker state, in its colour."""
    return Text(status or "-", style=STATUS_STYLES.get(status or "", ""))


def when(timestamp: float | None) -> str:
    """A Unix time as local ISO 8601 to the second (`2026-11-30T14:05:09`); "-" for none."""
    if timestamp is None:
        return "-"
    moment = datetime.datetime.fromtimestamp(timestamp).replace(microsecond=0)
    return moment.isoformat()


def _layout(
    items: Sequence[JsonObject], columns: Sequence[Column], width: int
) -> tuple[Table, int]:
    """The widest of the three layouts that fits `width`, and the width to print it at.

    Only blocks of a terminal narrower than a header and an id are printed wider than it.
    """
    cells = [[_text(column.cell(item), item) for column in columns] for item in items]
    natural = [
        max([len(column.header), *(_width(row[index]) for row in cells)])
        for index, column in enumerate(columns)
    ]
    for split_times in (False, True):
        least = [
            _least(column.kind, wide, split_times)
            for column, wide in zip(columns, natural, strict=True)
        ]
        if sum(least) + _GAP * (len(columns) - 1) <= width:
            return _table(columns, cells, least, split_times), width
    whole = [
        wide for column, wide in zip(columns, natural, strict=True) if column.kind is not Kind.TEXT
    ]
    headers = max(len(column.header) for column in columns)
    return _blocks(columns, cells), max(width, headers + _GAP + max(whole, default=0))


def _worker_runs(worker: JsonObject) -> str:
    return f"{len(worker.get('current_run_ids', []))}/{worker.get('concurrency', '?')}"


def _least(kind: Kind, natural: int, split_times: bool) -> int:
    if kind is Kind.TEXT:
        return min(natural, _TEXT_MIN)
    if kind is Kind.TIME and split_times:
        return min(natural, _DATE)
    return natural


def _table(
    columns: Sequence[Column], cells: list[list[Text]], least: list[int], split_times: bool
) -> Table:
    table = Table(box=None, padding=(0, _GAP, 0, 0), pad_edge=False, header_style="bold")
    for column, width in zip(columns, least, strict=True):
        wraps = column.kind is Kind.TEXT
        table.add_column(column.header, min_width=width, no_wrap=not wraps, overflow="fold")
    for row in cells:
        table.add_row(
            *(
                _fit(cell, column.kind, split_times)
                for column, cell in zip(columns, row, strict=True)
            )
        )
    return table


def _fit(cell: Text, kind: Kind, split_times: bool) -> Text:
    """`2026-11-30T14:05:09` as `2026-11-30` over `14:05:09` when times are split."""
    if not (split_times and kind is Kind.TIME):
        return cell
    date, sep, time_of_day = cell.plain.partition("T")
    return Text(f"{date}\n{time_of_day}", style=cell.style) if sep else cell


def _blocks(columns: Sequence[Column], cells: list[list[Text]]) -> Table:
    """Each item as `header  value` lines, a blank line between items."""
    table = Table.grid(padding=(0, _GAP, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for number, row in enumerate(cells):
        if number:
            table.add_row("", "")
        for column, cell in zip(columns, row, strict=True):
            table.add_row(column.header, cell)
    return table


def _text(value: Text | str, item: JsonObject) -> Text:
    """A cell as rich text; dim for a hidden item (a hidden worker)."""
    text = value if isinstance(value, Text) else Text(value)
    if item.get("hidden"):
        text.stylize("dim")
    return text


def _width(cell: Text) -> int:
    return max((len(line) for line in cell.plain.splitlines()), default=0)
