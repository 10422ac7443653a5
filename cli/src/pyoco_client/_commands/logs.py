"""`logs`: what a run's tasks printed and logged, read once or followed as it is written."""

from __future__ import annotations

import datetime

import click

from pyoco_client._calls import JsonObject
from pyoco_client._client import Client
from pyoco_client._commands.runid import run_id_argument
from pyoco_client._output import emit
from pyoco_client._session import pass_client

_PAGE = 1000
"""Records asked for per request."""


@click.command()
@pass_client
@run_id_argument
@click.option(
    "--follow", "-f", is_flag=True, help="Print new records as they come until the run ends."
)
@click.option("--task", metavar="TASK", help="Only the records of this task.")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def logs(client: Client, run_id: str, follow: bool, task: str | None, output: str) -> None:
    """Show what the tasks of run RUN_ID printed and logged, oldest first.

    Text output is one line per record: local time, task (`-` outside any task), where it came
    from (stdout, stderr, the level of a logging record, or system) and the text, as in
    `2026-11-30T12:00:00.123 load stdout 3 rows`. JSON output is one record per line. A run
    keeps at most PYOCO_RUN_LOG_MAX_BYTES of logs; a note on stderr says when it was cut.
    With --follow, the records the run writes next are printed as it writes them, until it
    ends (Ctrl-C stops following; the run goes on).
    """
    show = emit if output == "json" else _print_line
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


def _print_line(record: JsonObject) -> None:
    moment = datetime.datetime.fromtimestamp(record["ts"]).isoformat(timespec="milliseconds")
    source = (
        record["level"] if record["stream"] == "log" and record.get("level") else record["stream"]
    )
    click.echo(f"{moment} {record.get('task') or '-'} {source} {record['message']}")
