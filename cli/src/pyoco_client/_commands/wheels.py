"""The wheel registry commands: wheels, wheel-history, wheel-upload, wheel-delete."""

from __future__ import annotations

from pathlib import Path

import click

from pyoco_client._client import Client
from pyoco_client._errors import InputError
from pyoco_client._output import OUTPUT_JSON_OR_TABLE, emit
from pyoco_client._preflight import preflight
from pyoco_client._session import pass_client
from pyoco_client._tables import print_wheels


@click.command()
@click.option("--output", type=OUTPUT_JSON_OR_TABLE, default="json", show_default=True)
@pass_client
def wheels(client: Client, output: str) -> None:
    """List the wheels in the registry."""
    found = client.wheels()
    if output == "json":
        emit(found)
    else:
        print_wheels(found)


@click.command("wheel-history")
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@click.option("--wheel-name", help="Only events of this wheel file.")
@click.option("--action", type=click.Choice(["upload", "delete"]))
@pass_client
def wheel_history(client: Client, limit: int, wheel_name: str | None, action: str | None) -> None:
    """List wheel uploads and deletions, newest first (admin keys)."""
    emit(client.wheel_history(limit=limit, wheel_name=wheel_name, action=action))


@click.command("wheel-upload")
@click.option(
    "--wheel-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The wheel to upload (built with `uv build`, for example).",
)
@click.option("--tags", help="Comma-separated tags: only workers and runs of these get it.")
@click.option(
    "--replace/--no-replace",
    default=True,
    show_default=True,
    help="--no-replace refuses the upload when the distribution already has a version.",
)
@click.option(
    "--preflight",
    "mode",
    type=click.Choice(["strict", "warn", "off"]),
    default="strict",
    show_default=True,
    help="Look inside the wheel first: strict stops on errors, warn only reports them.",
)
@click.option(
    "--allow-no-entry-points/--require-entry-points",
    default=True,
    show_default=True,
    help="Whether a wheel without entry points passes the preflight.",
)
@click.option(
    "--allow-missing-usage-doc/--require-usage-doc",
    default=True,
    show_default=True,
    help="Whether a wheel without usage documentation passes the preflight.",
)
@pass_client
def wheel_upload(
    client: Client,
    wheel_file: Path,
    tags: str | None,
    replace: bool,
    mode: str,
    allow_no_entry_points: bool,
    allow_missing_usage_doc: bool,
) -> None:
    """Upload a wheel to the registry (admin keys); workers with --wheel-sync install it."""
    if mode != "off":
        found = preflight(
            wheel_file,
            require_entry_points=not allow_no_entry_points,
            require_usage_doc=not allow_missing_usage_doc,
        )
        for warning in found.warnings + (found.errors if mode == "warn" else []):
            click.echo(f"pyoco-client: preflight: warning: {warning}", err=True)
        if found.errors and mode == "strict":
            raise InputError(
                f"{wheel_file.name} failed the preflight: {'; '.join(found.errors)}",
                "fix the wheel, or pass --preflight warn to upload it anyway",
            )
    emit(client.upload_wheel(wheel_file, tags=tags, replace=replace))


@click.command("wheel-delete")
@click.option("--name", required=True, help="The wheel file name (see `wheels`).")
@pass_client
def wheel_delete(client: Client, name: str) -> None:
    """Delete a wheel version (admin keys): new runs get the previous version."""
    emit(client.delete_wheel(name))
