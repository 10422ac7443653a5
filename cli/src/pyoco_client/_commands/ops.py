"""Operations commands (admin keys when API keys are on): workers, worker, dlq, metrics."""

from __future__ import annotations

import click

from pyoco_client._calls import DEAD_LETTER_REASONS, WORKER_STATES
from pyoco_client._client import Client
from pyoco_client._output import OUTPUT_JSON_OR_TABLE, emit
from pyoco_client._session import pass_client
from pyoco_client._tables import print_dead_letters, print_workers


@click.command()
@click.option(
    "--scope",
    type=click.Choice(["active", "all"]),
    default="active",
    show_default=True,
    help="active: RUNNING and IDLE workers; all: every record kept.",
)
@click.option("--state", type=click.Choice(WORKER_STATES))
@click.option("--include-hidden", is_flag=True, help="Include hidden workers.")
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@click.option("--output", type=OUTPUT_JSON_OR_TABLE, default="json", show_default=True)
@pass_client
def workers(
    client: Client,
    scope: str,
    state: str | None,
    include_hidden: bool,
    limit: int,
    output: str,
) -> None:
    """List the registered workers, in worker id order."""
    found = client.workers(scope=scope, state=state, include_hidden=include_hidden, limit=limit)
    if output == "json":
        emit(found)
    else:
        print_workers(found)


@click.group()
def worker() -> None:
    """Hide a worker from `workers`, or show it again."""


@worker.command()
@click.argument("worker_id")
@pass_client
def hide(client: Client, worker_id: str) -> None:
    """Hide worker WORKER_ID (kept across its restarts)."""
    emit(client.hide_worker(worker_id))


@worker.command()
@click.argument("worker_id")
@pass_client
def unhide(client: Client, worker_id: str) -> None:
    """Show the hidden worker WORKER_ID again."""
    emit(client.unhide_worker(worker_id))


@click.group()
def dlq() -> None:
    """Dead letters: jobs that could not be run, and driving them again."""


@dlq.command("list")
@click.option("--reason", type=click.Choice(DEAD_LETTER_REASONS))
@click.option("--tag", help="Only dead letters of this tag.")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--cursor", help="Continue from this page's end (a `next_cursor`).")
@click.option("--output", type=OUTPUT_JSON_OR_TABLE, default="json", show_default=True)
@pass_client
def list_dead_letters(
    client: Client,
    reason: str | None,
    tag: str | None,
    limit: int,
    cursor: str | None,
    output: str,
) -> None:
    """List dead letters, newest first: {"items": [...], "next_cursor": ...}."""
    page = client.dead_letters_page(reason=reason, tag=tag, limit=limit, cursor=cursor)
    if output == "json":
        emit(page)
    else:
        print_dead_letters(page["items"], page["next_cursor"])


@dlq.command()
@click.argument("dead_letter_id")
@pass_client
def redrive(client: Client, dead_letter_id: str) -> None:
    """Queue the run of dead letter DEAD_LETTER_ID again (its `id` in `dlq list`)."""
    emit(client.redrive(dead_letter_id))


@click.command()
@pass_client
def metrics(client: Client) -> None:
    """Print the gateway's Prometheus metrics."""
    click.echo(client.metrics(), nl=False)
