"""`submit`, `submit-yaml` and `rerun`: queue a run, and with --wait, see it to its end.

The three take parameters the same way (--params-file, then --params, then each --param, key by
key) and share --wait, --wait-timeout and --idempotency-key; both submits also take the run's
labels, time limit, retry policy and pinned wheels. Without --wait they print the accepted run
(`run_id`, `status`, `flow_name`, `tag`, `rerun_of` for a re-run), and the server's warnings
(no live worker serves the tag, say) on stderr, `warning: ...` one a line. With --wait they
follow the run's events until it ends, print `run_result` (status, outputs, error), and exit 0
if it COMPLETED, 2 if it FAILED or was CANCELLED.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pyoco_client._client import Client
from pyoco_client._commands.runid import run_id_argument
from pyoco_client._inputs import comma_list, merged_params, read_file, retry_policy
from pyoco_client._output import emit, run_result, warn
from pyoco_client._session import pass_client

F = TypeVar("F", bound=Callable[..., Any])

EXIT_RUN_NOT_COMPLETED = 2
"""Exit status of `--wait` when the run FAILED or was CANCELLED."""


def _options(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Apply `options` to a command, the first one shown first."""

    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


_params_options = _options(
    click.option("--params", "params_json", metavar="JSON", help="Parameters as a JSON object."),
    click.option(
        "--params-file",
        metavar="FILE",
        help="Parameters from a JSON or YAML file holding an object.",
    ),
    click.option(
        "--param",
        "pairs",
        metavar="KEY=VALUE",
        multiple=True,
        help="One parameter, repeatable; VALUE is read as JSON when it parses, else as text.",
    ),
)


def _timeout_option(default: str) -> Callable[[F], F]:
    """--timeout-sec, whose default is `default`."""
    return click.option(
        "--timeout-sec",
        type=click.FloatRange(0, 604800, min_open=True),
        metavar="SECONDS",
        help=f"Time limit of the run once a worker starts it (FAILED `timeout` beyond)  {default}",
    )


_run_options = _options(
    click.option("--tags", metavar="A,B", help="Comma-separated labels stored with the run."),
    _timeout_option("[default: the server's PYOCO_RUN_TIMEOUT_SEC]"),
    click.option(
        "--retry-max-attempts",
        type=click.IntRange(1, 20),
        metavar="N",
        help="Run it again after a failure, up to N attempts in all.",
    ),
    click.option(
        "--retry-backoff",
        type=click.FloatRange(0, 86400),
        metavar="SECONDS",
        help="With --retry-max-attempts: wait before the second attempt (doubling after)  "
        "[default: 1]",
    ),
    click.option(
        "--requires",
        metavar="DIST==VERSION,...",
        help="Run with these registry wheel versions instead of the newest for the tag "
        "(comma-separated, like my_ext==0.1.0).",
    ),
)

_wait_options = _options(
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
)


@click.command()
@click.option("--flow-name", default="main", show_default=True, help="Flow the workers resolve.")
@_params_options
@click.option("--tag", help="Routing tag  [default: the server's default tag]")
@_run_options
@_wait_options
@pass_client
def submit(client: Client, flow_name: str, tag: str | None, **options: Any) -> None:
    """Submit a run of a flow the workers know by name.

    Parameters merge key by key: --params-file, then --params, then each --param.
    """
    accepted = client.submit(flow_name, _params(options), tag=tag, **_run(options))
    _finish(client, accepted, options)


@click.command("submit-yaml")
@click.option("--workflow-file", required=True, metavar="FILE", help="The flow.yaml to run.")
@click.option("--flow-name", required=True, help="Name of the flow.")
@_params_options
@click.option("--tag", help="Routing tag  [default: the server's default tag]")
@_run_options
@_wait_options
@pass_client
def submit_yaml(
    client: Client, workflow_file: str, flow_name: str, tag: str | None, **options: Any
) -> None:
    """Upload a flow.yaml and submit a run of it.

    Parameters override the file's flow.defaults, key by key: --params-file, then --params,
    then each --param.
    """
    workflow = read_file(workflow_file, "the workflow file")
    accepted = client.submit_yaml(
        workflow,
        flow_name,
        tag=tag,
        params=_params(options),
        file_name=Path(workflow_file).name,
        **_run(options),
    )
    _finish(client, accepted, options)


@click.command()
@pass_client
@run_id_argument
@_params_options
@click.option("--tag", help="Route the new run to this tag  [default: the original's]")
@_timeout_option("[default: the original's]")
@_wait_options
def rerun(
    client: Client, run_id: str, tag: str | None, timeout_sec: float | None, **options: Any
) -> None:
    """Run run RUN_ID again, as a new run, whatever its status.

    The new run has the original's flow (and flow.yaml), params, tag, labels, time limit, retry
    policy and code versions; parameters given here override its params key by key, --tag and
    --timeout-sec its tag and time limit. The accepted run names the original in `rerun_of`.
    """
    key = options["idempotency_key"]
    accepted = client.rerun(
        run_id, _params(options), tag=tag, idempotency_key=key, timeout_sec=timeout_sec
    )
    _finish(client, accepted, options)


def _params(options: dict[str, Any]) -> dict[str, Any] | None:
    """The parameters of --params-file, --params and --param, merged; None for none."""
    return merged_params(options["params_file"], options["params_json"], options["pairs"])


def _run(options: dict[str, Any]) -> dict[str, Any]:
    """The submit's keyword arguments for the `_run_options` and --idempotency-key."""
    return {
        "tags": comma_list(options["tags"]),
        "timeout_sec": options["timeout_sec"],
        "retry": retry_policy(options["retry_max_attempts"], options["retry_backoff"]),
        "requires": comma_list(options["requires"]),
        "idempotency_key": options["idempotency_key"],
    }


def _finish(client: Client, accepted: dict[str, Any], options: dict[str, Any]) -> None:
    """Print the accepted run, its warnings on stderr.

    With --wait or --wait-timeout, wait for the run's end instead, print the result, and exit 2
    unless it COMPLETED.
    """
    warn(accepted)
    timeout = options["wait_timeout"]
    if not options["wait"] and timeout is None:
        emit(accepted)
        return
    snapshot = client.wait(accepted["run_id"], timeout=timeout, records=True)
    emit(run_result(snapshot))
    if snapshot["status"] != "COMPLETED":
        click.get_current_context().exit(EXIT_RUN_NOT_COMPLETED)
