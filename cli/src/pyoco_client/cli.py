"""`pyoco-client`: submit runs to a pyoco-server, follow them, and operate it.

    pyoco-client submit-yaml --workflow-file flow.yaml --flow-name main --tag hello --wait
    pyoco-client --server http://127.0.0.1:8000 get RUN_ID --records
    pyoco-client get 3f2a9 --output table --server http://127.0.0.1:8000
    pyoco-client list --status FAILED --output table

Each result is one JSON document on one line of stdout, for scripts (`watch` prints one per
event); `--output table` draws a table for people. A run is named by its id or a unique start
of it (`_commands.runid`). The connection options (--server, --api-key, ...) go before or after
the command (`_session`). An error is two lines on stderr, what went wrong and a hint (see
`_report`), with the traceback only under --debug. Exit status: 0 on success, 1 on any error
(usage errors included), 2 when `--wait` saw the run fail or be cancelled, 130 on Ctrl-C.
Shell completion is click's:
`eval "$(_PYOCO_CLIENT_COMPLETE=bash_source pyoco-client)"` (or zsh_source, fish_source).
The commands use only the `Client` facade.
"""

from __future__ import annotations

import copy
from typing import Any

import click

from pyoco_client._commands import cancel, logs, ops, runs, submit, wheels
from pyoco_client._report import failures
from pyoco_client._session import Session, accept_after_commands, connection_options

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
            with failures(debug=lambda: _debugging(ctx)):
                return super().invoke(ctx)
        except KeyboardInterrupt:
            ctx.exit(EXIT_INTERRUPTED)


def _debugging(ctx: click.Context) -> bool:
    """--debug, given before or after the command."""
    if isinstance(ctx.obj, Session):
        return ctx.obj.debug
    return bool(ctx.params.get("debug"))


_EPILOG = """\b
The options above may follow the command: pyoco-client get RUN_ID --server URL.
A run may be named by a unique start of its id: pyoco-client get 3f2a9.
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
@connection_options
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
    session = Session(server, api_key, api_key_header, timeout, debug)
    ctx.call_on_close(session.close)
    ctx.obj = session


for _command in (
    submit.submit,
    submit.submit_yaml,
    runs.get,
    runs.tasks,
    runs.list_runs,
    runs.watch,
    logs.logs,
    cancel.cancel,
    submit.rerun,
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
# The original CLI's name for the paged listing: it still works, but is not listed.
_list_vnext = copy.copy(runs.list_runs)
_list_vnext.hidden = True
cli.add_command(_list_vnext, "list-vnext")
accept_after_commands(cli)  # last: every command above takes --server & co. after its name


def main() -> None:
    """Run the pyoco-client command line on the process's arguments, then exit."""
    cli(prog_name="pyoco-client")


if __name__ == "__main__":
    main()
