"""`pyoco-server`: run the gateway, with an embedded NATS and a local worker by default.

    pyoco-server up                       # NATS + gateway + worker on 127.0.0.1
    pyoco-server up --nats-url nats://nats.internal:4222 --no-worker
    pyoco-server nats-cluster up --nodes 3    # a local 3-node JetStream cluster

As in the original, `pyoco-server` alone means `up`, and flags without a command are `up` flags.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from pyoco_server.domain.envparse import nats_url
from pyoco_server.domain.errors import SettingsError
from pyoco_server.domain.settings import Settings
from pyoco_server.local.clusterup import ClusterOptions, LocalCluster
from pyoco_server.local.up import Stack, StartupError, UpOptions
from pyoco_server.logs import configure_logging


def _nats_urls(_ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> str | None:
    """Every `--nats-url` given, as one comma-separated list (None: none given)."""
    if not values:
        return None
    joined = ",".join(url.strip() for value in values for url in value.split(",") if url.strip())
    try:
        return nats_url(joined)
    except ValueError as exc:
        raise click.BadParameter(f"{joined!r}: {exc}", param=param) from None


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.UsageError(f"{exc} (fix the environment variable or .env)") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """pyoco-server: distributed execution of Pyoco workflows over NATS JetStream."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP listen address.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    "gateway_workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Gateway processes.",
)
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="uvicorn's log level (application logs follow PYOCO_LOG_LEVEL).",
)
@click.option(
    "--nats-url",
    multiple=True,
    callback=_nats_urls,
    help="Use this NATS (no embedded one); repeat it, or separate URLs with commas, to give "
    "several servers of a cluster [env: PYOCO_NATS_URL].",
)
@click.option(
    "--with-nats-bootstrap",
    is_flag=True,
    help="Start NATS through nats-bootstrap instead of directly.",
)
@click.option("--nats-listen-host", default="127.0.0.1", show_default=True)
@click.option("--nats-client-port", type=click.IntRange(1, 65535), default=4222, show_default=True)
@click.option(
    "--nats-http-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Also serve NATS monitoring on this port.",
)
@click.option(
    "--nats-store-dir",
    type=click.Path(path_type=Path),
    default=Path(".pyoco/nats"),
    show_default=True,
    help="JetStream store of the embedded NATS.",
)
@click.option("--dashboard-lang", type=click.Choice(["auto", "ja", "en"]), default=None)
@click.option("--worker/--no-worker", default=True, show_default=True, help="Start a local worker.")
@click.option("--with-worker", is_flag=True, hidden=True, help="Accepted for compatibility.")
@click.option("--worker-tags", help="Tags of the local worker, comma-separated [default: default].")
@click.option("--worker-id", default="local-worker", show_default=True)
@click.option(
    "--worker-flow-resolver",
    metavar="MODULE:FUNCTION",
    help="Flow resolver of the local worker, for runs submitted by name.",
)
@click.option(
    "--worker-wheel-sync/--no-worker-wheel-sync",
    default=True,
    show_default=True,
    help="The local worker installs the registry's wheels.",
)
@click.option(
    "--worker-reload/--no-worker-reload",
    default=True,
    show_default=True,
    help="The local worker picks up task modules changed on disk (it replaces the run "
    "processes that loaded them before their next run).",
)
@click.option(
    "--task-modules",
    metavar="MODULES",
    help="Comma-separated modules whose callables flow.yaml tasks may use (besides registry "
    "wheels and the demo tasks) [env: PYOCO_TASK_MODULES].",
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Allow a non-loopback --host with API keys off (anyone who reaches it may run code).",
)
def up(with_worker: bool, **options: object) -> None:
    """Start NATS (unless given one), the gateway and a local worker; Ctrl-C stops them all."""
    del with_worker  # the worker is on by default now; --no-worker turns it off
    settings = _settings()
    configure_logging(settings, "pyoco-server")
    stack = Stack(UpOptions(**options), settings)  # type: ignore[arg-type]
    try:
        code = asyncio.run(stack.run())
    except StartupError as exc:
        click.echo(f"pyoco-server: {exc}", err=True)
        sys.exit(1)
    sys.exit(code)


@cli.group("nats-cluster")
def nats_cluster() -> None:
    """A local JetStream cluster of nats-server processes, for development and tests."""


@nats_cluster.command("up")
@click.option("--nodes", type=click.IntRange(1, 9), default=3, show_default=True)
@click.option(
    "--store-dir",
    type=click.Path(path_type=Path),
    default=Path(".pyoco/nats"),
    show_default=True,
    help="Users in <dir>/auth (as `up`), node stores in <dir>/cluster/node-N.",
)
@click.option(
    "--client-port",
    type=click.IntRange(1, 65535),
    default=4222,
    show_default=True,
    help="The first node's client port; the next nodes count up from it.",
)
@click.option(
    "--cluster-port",
    type=click.IntRange(1, 65535),
    default=6222,
    show_default=True,
    help="The first node's route port.",
)
@click.option(
    "--http-port",
    type=click.IntRange(1, 65535),
    default=8222,
    show_default=True,
    help="The first node's monitoring port.",
)
@click.option(
    "--replicas",
    type=click.IntRange(1, 5),
    default=None,
    help="Replicas of the streams and buckets [default: one per node, at most 3].",
)
def nats_cluster_up(**options: object) -> None:
    """Start the nodes on 127.0.0.1, create the streams and buckets; Ctrl-C stops them."""
    settings = _settings()
    configure_logging(settings, "pyoco-server")
    cluster = LocalCluster(ClusterOptions(**options), settings)  # type: ignore[arg-type]
    try:
        code = asyncio.run(cluster.run())
    except StartupError as exc:
        click.echo(f"pyoco-server nats-cluster: {exc}", err=True)
        sys.exit(1)
    sys.exit(code)


def main() -> None:
    """Console entry point: no command (or only flags) means `up`."""
    args = sys.argv[1:]
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        args = ["up", *args]
    cli.main(args=args, prog_name="pyoco-server")


if __name__ == "__main__":
    main()
