"""`pyoco-client`: submit runs to a pyoco-server, follow them, and operate it.

    pyoco-client submit-yaml --workflow-file flow.yaml --flow-name main --tag hello --wait
    pyoco-client --server http://127.0.0.1:8000 get RUN_ID --records
    pyoco-client list --status FAILED --output table

Each result is one JSON document on one line of stdout, for scripts (`watch` prints one per
event); `--output table` draws a table for people. An error is two lines on stderr, what went
wrong and a hint (see `_report`), with the traceback only under --debug. Exit status: 0 on
success, 1 on any error (usage errors included), 2 when `submit --wait` saw the run fail or be
cancelled, 130 on Ctrl-C. Shell completion is click's:
`eval "$(_PYOCO_CLIENT_COMPLETE=bash_source pyoco-client)"` (or zsh_source, fish_source).
The commands use only the `Client` facade.
"""

from __future__ import annotations

from typing import Any

import click

from pyoco_client._client import Client
from pyoco_client._commands import ops, runs, submit, wheels
from pyoco_client._inputs import server_url
from pyoco_client._report import failures

DEFAULT_SERVER = "http://127.0.0.1:8000"

EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C, as shells report a process ended by SIGINT."""


class _Group(click.Group):
    """The command group; errors while parsing or running are shown by `_report`."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with failures():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with failures(debug=bool(ctx.params.get("debug"))):
                return super().invoke(ctx)
        except KeyboardInterrupt:
            ctx.exit(EXIT_INTERRUPTED)


_EPILOG = """\b
Exit status: 0 done; 1 an error (one line and a hint on stderr); 2 a run
waited for (--wait) FAILED or was CANCELLED; 130 interrupted (Ctrl-C).
Shell completion: eval "$(_PYOCO_CLIENT_COMPLETE=bash_source pyoco-client)"
(zsh_source, fish_source for the other shells).
"""


@click.group(
    cls=_Group,
    no_args_is_help=False,
    epilog=_EPILOG,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--server",
    envvar="PYOCO_SERVER_URL",
    default=DEFAULT_SERVER,
    show_default=True,
    show_envvar=True,
    help="URL of the pyoco-server gateway.",
)
@click.option(
    "--api-key",
    envvar="PYOCO_API_KEY",
    show_envvar=True,
    help="API key, for a server that requires one.",
)
@click.option(
    "--api-key-header",
    default="X-API-Key",
    show_default=True,
    help="Header that carries the API key.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the server to connect and answer (watches have no read limit).",
)
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.pass_context
def cli(
    ctx: click.Context,
    server: str,
    api_key: str | None,
    api_key_header: str,
    timeout: float,
    debug: bool,
) -> None:
    """Submit runs to a pyoco-server, follow them, and operate it.

    Results are JSON, one document per line; errors are one line and a hint on stderr.
    """
    client = Client(server_url(server), api_key, api_key_header, timeout)
    ctx.obj = ctx.with_resource(client)


for _command in (
    submit.submit,
    submit.submit_yaml,
    runs.get,
    runs.tasks,
    runs.list_runs,
    runs.watch,
    runs.cancel,
    ops.workers,
    ops.worker,
    ops.dlq,
    ops.metrics,
    wheels.wheels,
    wheels.wheel_history,
    wheels.wheel_upload,
    wheels.wheel_delete,
):
    cli.add_command(_command)
cli.add_command(runs.list_runs, "list-vnext")  # the original CLI's name for the paged listing


def main() -> None:
    """Run the pyoco-client command line on the process's arguments, then exit."""
    cli(prog_name="pyoco-client")


if __name__ == "__main__":
    main()
