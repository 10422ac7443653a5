"""`logs`: what a run's tasks printed and logged, read once or followed as it is written."""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable

import click

from pyoco_client._calls import JsonObject
from pyoco_client._client import Client
from pyoco_client._commands.runid import run_id_argument
from pyoco_client._output import emit
from pyoco_client._session import pass_client

_PAGE = 1000
"""Records asked for per request."""

_CONTROLS = re.compile(r"\x1b\[[0-9;]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Colours (SGR sequences), printed as they are, and every other control character but tab and
line feed, printed escaped (`_shown`)."""


@click.command()
@pass_client
@run_id_argument
@click.option(
    "--follow", "-f", is_flag=True, help="Print new records as they come until the run ends."
)
@click.option("--task", metavar="TASK", help="Only the records of this task.")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--raw",
    is_flag=True,
    help="Print control characters in text output as the tasks wrote them (they can move the "
    "cursor, retitle or clear a terminal); by default only colours are.",
)
def logs(
    client: Client, run_id: str, follow: bool, task: str | None, output: str, raw: bool
) -> None:
    r"""Show what the tasks of run RUN_ID printed and logged, oldest first.

    Text output is one line per record: local time, task (`-` outside any task), where it came
    from (stdout, stderr, the level of a logging record, or system) and the text, as in
    `2026-11-30T12:00:00.123 load stdout 3 rows`. JSON output is one record per line. A run
    keeps at most PYOCO_RUN_LOG_MAX_BYTES of logs; a note on stderr says when it was cut.
    With --follow, the records the run writes next are printed as it writes them, until it
    ends (Ctrl-C stops following; the run goes on). Text output shows control characters other
    than colours escaped (`\x1b`), so that what a task printed cannot drive the terminal that
    reads it; --raw prints them as written.
    """
    show: Callable[[JsonObject], None] = (
        emit if output == "json" else functools.partial(_print_line, raw=raw)
    )

    if follow:
        for event in client.follow_logs(run_id, task):
            if event.record is not None:
                show(event.record)
        return
    after = 0
    truncated = False
    while True:
        page = client.logs(run_id, task, after, _PAGE)
        for record in page["items"]:
            show(record)
        truncated = truncated or page["truncated"]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    if truncated:
        click.echo("note: the run's log reached its limit; later output was dropped", err=True)


def _print_line(record: JsonObject, raw: bool) -> None:
    moment = datetime.datetime.fromtimestamp(record["ts"]).isoformat(timespec="milliseconds")
    source = (
        record["level"] if record["stream"] == "log" and record.get("level") else record["stream"]
    )
    message = record["message"] if raw else _shown(record["message"])
    click.echo(f"{moment} {_shown(record.get('task') or '-')} {source} {message}")


def _shown(text: str) -> str:
    """`text` with every control character but tab, line feed and colours escaped."""
    return _CONTROLS.sub(_escaped, text)


def _escaped(control: re.Match[str]) -> str:
    found = control.group()
    return found if len(found) > 1 else f"\\x{ord(found):02x}"
