"""`pyoco-client`: submit runs to a pyoco-server and read them back.

    pyoco-client submit-yaml --workflow-file flow.yaml --flow-name main --tag hello
    pyoco-client --server http://127.0.0.1:8000 get RUN_ID --records

Each result is one JSON document on one line of stdout, for scripts. An error is two lines on
stderr, what went wrong and a hint (see `_report`), with the traceback only under --debug; the
exit status is 0 on success and 1 on any error, usage errors included.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pyoco_client._client import Client
from pyoco_client._inputs import json_object, merged_params, read_file, server_url, tag_list
from pyoco_client._report import failures

DEFAULT_SERVER = "http://127.0.0.1:8000"


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
        with failures(debug=bool(ctx.params.get("debug"))):
            return super().invoke(ctx)


@click.group(
    cls=_Group, no_args_is_help=False, context_settings={"help_option_names": ["-h", "--help"]}
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
    help="Seconds to wait for the server.",
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
    """Submit runs to a pyoco-server and read them back, one JSON document per line."""
    client = Client(server_url(server), api_key, api_key_header, timeout)
    ctx.obj = ctx.with_resource(client)


@cli.command()
@click.option("--flow-name", default="main", show_default=True, help="Flow the workers resolve.")
@click.option("--params", "params_json", metavar="JSON", help="Parameters as a JSON object.")
@click.option(
    "--params-file", metavar="FILE", help="Parameters from a JSON or YAML file holding an object."
)
@click.option(
    "--param",
    "pairs",
    metavar="KEY=VALUE",
    multiple=True,
    help="One parameter, repeatable; VALUE is read as JSON when it parses, else as text.",
)
@click.option("--tag", help="Routing tag  [default: the server's default tag]")
@click.option("--tags", metavar="A,B", help="Comma-separated labels stored with the run.")
@click.pass_obj
def submit(
    client: Client,
    flow_name: str,
    params_json: str | None,
    params_file: str | None,
    pairs: tuple[str, ...],
    tag: str | None,
    tags: str | None,
) -> None:
    """Submit a run of a flow the workers know by name.

    Parameters merge key by key: --params-file, then --params, then each --param.
    """
    params = merged_params(params_file, params_json, pairs)
    _emit(client.submit(flow_name, params=params, tag=tag, tags=tag_list(tags)))


@cli.command("submit-yaml")
@click.option("--workflow-file", required=True, metavar="FILE", help="The flow.yaml to run.")
@click.option("--flow-name", required=True, help="Name of the flow.")
@click.option("--tag", help="Routing tag  [default: the server's default tag]")
@click.option(
    "--params", "params_json", metavar="JSON", help="JSON object overriding flow.defaults."
)
@click.pass_obj
def submit_yaml(
    client: Client, workflow_file: str, flow_name: str, tag: str | None, params_json: str | None
) -> None:
    """Upload a flow.yaml and submit a run of it."""
    workflow = read_file(workflow_file, "the workflow file")
    params = None if params_json is None else json_object(params_json, "--params")
    file_name = Path(workflow_file).name
    _emit(client.submit_yaml(workflow, flow_name, tag=tag, params=params, file_name=file_name))


@cli.command()
@click.argument("run_id")
@click.option("--records", is_flag=True, help="Include the record of each task.")
@click.pass_obj
def get(client: Client, run_id: str, records: bool) -> None:
    """Show the latest snapshot of run RUN_ID."""
    _emit(client.get(run_id, records=records))


@cli.command()
@click.argument("run_id")
@click.pass_obj
def tasks(client: Client, run_id: str) -> None:
    """Show the state and record of each task of run RUN_ID."""
    _emit(client.tasks(run_id))


def _emit(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, ensure_ascii=False))


def main() -> None:
    """Run the pyoco-client command line on the process's arguments, then exit."""
    cli(prog_name="pyoco-client")


if __name__ == "__main__":
    main()
