"""RUN_ID, taken the same way by every command about one run.

The run id is the command's argument (`pyoco-client get 3f2a9c`); `--run-id ID`, as the original
`cancel` took it, still works but is not shown in the help. A unique prefix of an id is as good
as the id: it is looked up with `Client.resolve_run_id` (no lookup for a whole UUID), and a
prefix that matches no run or several is an error saying which.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from pyoco_client._client import Client

Command = Callable[..., None]


def run_id_argument(command: Command) -> Command:
    """Give `command` (called with the client first) `run_id`: RUN_ID or --run-id, resolved."""

    @functools.wraps(command)
    def resolved(
        client: Client, *args: Any, run_id: str | None, run_id_flag: str | None, **kwargs: Any
    ) -> None:
        given = _one(run_id, run_id_flag)
        command(client, *args, run_id=client.resolve_run_id(given), **kwargs)

    flag = click.option(
        "--run-id", "run_id_flag", metavar="RUN_ID", hidden=True, help="The run (as RUN_ID)."
    )
    return click.argument("run_id", required=False, metavar="RUN_ID")(flag(resolved))


def _one(argument: str | None, flag: str | None) -> str:
    """The run id given as RUN_ID or --run-id (once, or twice alike)."""
    ctx = click.get_current_context()
    if argument is not None and flag is not None and argument != flag:
        raise click.UsageError(f"RUN_ID {argument!r} and --run-id {flag!r} differ; give one", ctx)
    given = argument if argument is not None else flag
    if given is None:
        raise click.UsageError("missing RUN_ID, the run's id (or its first characters)", ctx)
    return given
