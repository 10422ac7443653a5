"""`submit` and `submit-yaml`: queue a run, and with --wait, see it to its end.

Without --wait they print the accepted run (`run_id`, `status`, `flow_name`, `tag`). With
--wait they follow the run's events until it ends, print `run_result` (status, outputs, error),
and exit 0 if it COMPLETED, 2 if it FAILED or was CANCELLED.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pyoco_client._client import Client
from pyoco_client._inputs import comma_list, json_object, merged_params, read_file
from pyoco_client._output import emit, run_result

F = TypeVar("F", bound=Callable[..., Any])

EXIT_RUN_NOT_COMPLETED = 2
"""Exit status of `--wait` when the run FAILED or was CANCELLED."""


def _submit_options(command: F) -> F:
    """The options both submits share: --wait, --wait-timeout, --idempotency-key, --requires."""
    options = [
        click.option(
            "--wait",
            is_flag=True,
            help="Wait for the run to end and print its outputs; exit 0 if it COMPLETED, "
            "2 if it FAILED or was CANCELLED.",
        ),
        click.option(
            "--wait-timeout",
            type=click.FloatRange(0, min_open=True),
            metavar="SECONDS",
            help="Give up waiting after this long (exit 1); implies --wait  [default: no limit]",
        ),
        click.option(
            "--idempotency-key",
            metavar="KEY",
            help="Submitting again with this key returns the first run instead of a new one.",
        ),
        click.option(
            "--requires",
            metavar="DIST==VERSION,...",
            help="Run with these registry wheel versions instead of the newest for the tag "
            "(comma-separated, like my_ext==0.1.0).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
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
@_submit_options
@click.pass_obj
def submit(
    client: Client,
    flow_name: str,
    params_json: str | None,
    params_file: str | None,
    pairs: tuple[str, ...],
    tag: str | None,
    tags: str | None,
    wait: bool,
    wait_timeout: float | None,
    idempotency_key: str | None,
    requires: str | None,
) -> None:
    """Submit a run of a flow the workers know by name.

    Parameters merge key by key: --params-file, then --params, then each --param.
    """
    params = merged_params(params_file, params_json, pairs)
    accepted = client.submit(
        flow_name,
        params=params,
        tag=tag,
        tags=comma_list(tags),
        idempotency_key=idempotency_key,
        requires=comma_list(requires),
    )
    _finish(client, accepted, wait or wait_timeout is not None, wait_timeout)


@click.command("submit-yaml")
@click.option("--workflow-file", required=True, metavar="FILE", help="The flow.yaml to run.")
@click.option("--flow-name", required=True, help="Name of the flow.")
@click.option("--tag", help="Routing tag  [default: the server's default tag]")
@click.option(
    "--params", "params_json", metavar="JSON", help="JSON object overriding flow.defaults."
)
@_submit_options
@click.pass_obj
def submit_yaml(
    client: Client,
    workflow_file: str,
    flow_name: str,
    tag: str | None,
    params_json: str | None,
    wait: bool,
    wait_timeout: float | None,
    idempotency_key: str | None,
    requires: str | None,
) -> None:
    """Upload a flow.yaml and submit a run of it."""
    workflow = read_file(workflow_file, "the workflow file")
    params = None if params_json is None else json_object(params_json, "--params")
    accepted = client.submit_yaml(
        workflow,
        flow_name,
        tag=tag,
        params=params,
        file_name=Path(workflow_file).name,
        idempotency_key=idempotency_key,
        requires=comma_list(requires),
    )
    _finish(client, accepted, wait or wait_timeout is not None, wait_timeout)


def _finish(client: Client, accepted: dict[str, Any], wait: bool, timeout: float | None) -> None:
    """Print the accepted run; or wait for its end, print the result, exit 2 unless COMPLETED."""
    if not wait:
        emit(accepted)
        return
    snapshot = client.wait(accepted["run_id"], timeout=timeout, records=True)
    emit(run_result(snapshot))
    if snapshot["status"] != "COMPLETED":
        click.get_current_context().exit(EXIT_RUN_NOT_COMPLETED)
