"""Commands that read or act on runs: get, tasks, list (and list-vnext), watch, cancel."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from pyoco_client._calls import RUN_STATUSES, JsonObject
from pyoco_client._client import Client
from pyoco_client._errors import InputError, RunNotFound
from pyoco_client._output import OUTPUT_JSON_OR_TABLE, emit, status_line
from pyoco_client._sse import WatchEvent
from pyoco_client._tables import print_runs

_POSITIVE = click.FloatRange(0, min_open=True)


@click.command()
@click.argument("run_id")
@click.option("--records", is_flag=True, help="Include the record of each task.")
@click.pass_obj
def get(client: Client, run_id: str, records: bool) -> None:
    """Show the latest snapshot of run RUN_ID."""
    emit(client.get(run_id, records=records))


@click.command()
@click.argument("run_id")
@click.pass_obj
def tasks(client: Client, run_id: str) -> None:
    """Show the state and record of each task of run RUN_ID."""
    emit(client.tasks(run_id))


@click.command("list")
@click.option("--status", type=click.Choice(RUN_STATUSES))
@click.option("--flow", metavar="FLOW_NAME", help="Only runs of this flow.")
@click.option("--tag", help="Only runs routed to this tag.")
@click.option(
    "--updated-after",
    type=click.FloatRange(0),
    metavar="UNIX_TIME",
    help="Only runs changed after this time (Unix seconds).",
)
@click.option("--workflow-yaml-sha256", metavar="HEX", help="Only runs of this flow.yaml.")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--cursor", help="Continue from this page's end (a `next_cursor`).")
@click.option("--all", "all_pages", is_flag=True, help="Follow next_cursor through every page.")
@click.option("--full", is_flag=True, help="Whole snapshots with task records (a request each).")
@click.option("--output", type=OUTPUT_JSON_OR_TABLE, default="json", show_default=True)
@click.pass_obj
def list_runs(
    client: Client,
    status: str | None,
    flow: str | None,
    tag: str | None,
    updated_after: float | None,
    workflow_yaml_sha256: str | None,
    limit: int,
    cursor: str | None,
    all_pages: bool,
    full: bool,
    output: str,
) -> None:
    """List runs, newest first, a page at a time.

    JSON output is the page: {"items": [...], "next_cursor": ...}; pass next_cursor back with
    --cursor for the next page (the table ends with a next_cursor line).
    """
    filters: dict[str, Any] = {
        "status": status,
        "flow": flow,
        "tag": tag,
        "updated_after": updated_after,
        "workflow_yaml_sha256": workflow_yaml_sha256,
    }
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
@click.argument("run_id")
@click.option("--records", is_flag=True, help="Include the record of each task.")
@click.option(
    "--since",
    type=float,
    metavar="UNIX_TIME",
    help="Leave out snapshots that last changed before this time.",
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
@click.pass_obj
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
    "snapshot"}); --output status prints `ts<TAB>event<TAB>status<TAB>run_id`.
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


@click.command()
@click.option("--run-id", required=True, help="The run to cancel.")
@click.option("--reason", help="Why, recorded with the run.")
@click.option("--wait", is_flag=True, help="Wait until the run has ended, then print it.")
@click.option(
    "--timeout-sec",
    type=_POSITIVE,
    default=30.0,
    show_default=True,
    help="With --wait, give up after this long (exit 1).",
)
@click.pass_obj
def cancel(client: Client, run_id: str, reason: str | None, wait: bool, timeout_sec: float) -> None:
    """Cancel a run: PENDING ends at once, RUNNING is stopped by its worker."""
    snapshot = client.cancel(run_id, reason)
    if wait:
        snapshot = client.wait(run_id, timeout=timeout_sec)
    emit(snapshot)


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
