"""Commands that read runs: get, tasks, list (and its old name list-vnext), watch."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from pyoco_client._calls import RUN_STATUSES, JsonObject
from pyoco_client._client import Client
from pyoco_client._commands.runid import run_id_argument
from pyoco_client._errors import InputError, RunNotFound
from pyoco_client._inputs import Moment
from pyoco_client._output import OUTPUT_JSON_OR_TABLE, emit, status_line
from pyoco_client._runview import print_run, print_tasks
from pyoco_client._session import pass_client
from pyoco_client._sse import WatchEvent
from pyoco_client._tables import print_runs

_POSITIVE = click.FloatRange(0, min_open=True)

_TIME_HELP = (
    "ISO 8601 (local unless it ends with Z or +hh:mm), an age (10m, 2h, 1d) or Unix seconds"
)


@click.command()
@pass_client
@run_id_argument
@click.option("--records", is_flag=True, help="Include the record of each task (JSON output).")
@click.option("--output", type=OUTPUT_JSON_OR_TABLE, default="json", show_default=True)
def get(client: Client, run_id: str, records: bool, output: str) -> None:
    """Show the latest snapshot of run RUN_ID (or a unique start of its id).

    The table says why a PENDING run waits and why a CANCELLING one is being stopped.
    """
    snapshot = client.get(run_id, records=records)
    if output == "json":
        emit(snapshot)
    else:
        print_run(snapshot)


@click.command()
@pass_client
@run_id_argument
@click.option("--output", type=OUTPUT_JSON_OR_TABLE, default="json", show_default=True)
def tasks(client: Client, run_id: str, output: str) -> None:
    """Show the state and record of each task of run RUN_ID."""
    found = client.tasks(run_id)
    if output == "json":
        emit(found)
    else:
        print_tasks(found)


@click.command("list")
@click.option("--status", type=click.Choice(RUN_STATUSES))
@click.option("--flow", metavar="FLOW_NAME", help="Only runs of this flow.")
@click.option("--tag", help="Only runs routed to this tag.")
@click.option("--label", help="Only runs carrying this label (given with submit --tags).")
@click.option("--tenant", help="Only runs of this tenant (admin keys; user keys see their own).")
@click.option("--run-id-prefix", metavar="TEXT", help="Only runs whose id starts with TEXT.")
@click.option(
    "--updated-after",
    type=Moment(),
    metavar="TIME",
    help=f"Only runs changed after TIME: {_TIME_HELP}.",
)
@click.option("--workflow-yaml-sha256", metavar="HEX", help="Only runs of this flow.yaml.")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--cursor", help="Continue from this page's end (a `next_cursor`).")
@click.option("--all", "all_pages", is_flag=True, help="Follow next_cursor through every page.")
@click.option("--full", is_flag=True, help="Whole snapshots with task records (a request each).")
@click.option("--output", type=OUTPUT_JSON_OR_TABLE, default="json", show_default=True)
@pass_client
def list_runs(
    client: Client,
    limit: int,
    cursor: str | None,
    all_pages: bool,
    full: bool,
    output: str,
    **filters: Any,
) -> None:
    """List runs, newest first, a page at a time.

    JSON output is the page: {"items": [...], "next_cursor": ...}; pass next_cursor back with
    --cursor for the next page (the table ends with a next_cursor line).
    """
    if all_pages and cursor is not None:
        raise InputError("--all and --cursor do not go together", "give one or the other")
    page: JsonObject
    if all_pages:
        page = {"items": list(client.list(**filters, page_size=limit)), "next_cursor": None}
    else:
        page = client.list_page(**filters, limit=limit, cursor=cursor)
    if full:
        page["items"] = _snapshots(client, page["items"])
    if output == "json":
        emit(page)
    else:
        print_runs(page["items"], page["next_cursor"])


@click.command()
@pass_client
@run_id_argument
@click.option("--records", is_flag=True, help="Include the record of each task.")
@click.option(
    "--since",
    type=Moment(),
    metavar="TIME",
    help=f"Leave out snapshots that last changed before TIME: {_TIME_HELP}.",
)
@click.option("--last-event-id", metavar="ID", help="Resume after this event (its `id`).")
@click.option(
    "--timeout-sec",
    type=_POSITIVE,
    help="Give up if the run has not ended after this long (exit 1)  [default: no limit]",
)
@click.option(
    "--max-events",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Stop after this many events (0: no limit).",
)
@click.option(
    "--until-terminal",
    is_flag=True,
    help="Stop when the run ends (watch always does; kept for scripts of the original CLI).",
)
@click.option("--output", type=click.Choice(["json", "status"]), default="json", show_default=True)
def watch(
    client: Client,
    run_id: str,
    records: bool,
    since: float | None,
    last_event_id: str | None,
    timeout_sec: float | None,
    max_events: int,
    until_terminal: bool,
    output: str,
) -> None:
    """Follow run RUN_ID until it ends, one line per event.

    Prints the current snapshot, then each change as it happens and a heartbeat during
    silences, however long the run stays quiet; a dropped connection is resumed where it left
    off. --output json prints each event as one JSON object ({"event", "id", "run_id", "ts",
    "snapshot"}); --output status prints `ts<TAB>event<TAB>status<TAB>run_id`, and a fifth
    field saying why a PENDING run waits or a CANCELLING one is being stopped.
    """
    events = client.watch(run_id, records=records, last_event_id=last_event_id, timeout=timeout_sec)
    printed = 0
    with contextlib.closing(events):
        for event in events:
            if _before(event, since):
                continue
            if output == "status":
                click.echo(status_line(event))
            else:
                emit(event.to_dict())
            printed += 1
            if printed == max_events:
                return


def _snapshots(client: Client, items: list[JsonObject]) -> list[JsonObject]:
    """The full snapshot of each listed run; a run removed since the listing is left out."""
    snapshots = []
    for item in items:
        with contextlib.suppress(RunNotFound):
            snapshots.append(client.get(item["run_id"], records=True))
    return snapshots


def _before(event: WatchEvent, since: float | None) -> bool:
    """True for a snapshot that last changed before `since`."""
    if since is None or event.snapshot is None:
        return False
    return bool(event.snapshot["updated_at"] < since)
