"""`pyoco-server`: run the gateway, with an embedded NATS and a local worker by default.

    pyoco-server up                       # NATS + gateway + worker on 127.0.0.1
    pyoco-server up --nats-url nats://nats.internal:4222 --no-worker

As in the original, `pyoco-server` alone means `up`, and flags without a command are `up` flags.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from pyoco_server.domain.errors import SettingsError
from pyoco_server.domain.settings import Settings
from pyoco_server.local.up import Stack, StartupError, UpOptions
from pyoco_server.logs import configure_logging


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
@click.option("--nats-url", help="Use this NATS (no embedded one) [env: PYOCO_NATS_URL].")
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
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.UsageError(f"{exc} (fix the environment variable or .env)") from None
    configure_logging(settings, "pyoco-server")
    stack = Stack(UpOptions(**options), settings)  # type: ignore[arg-type]
    try:
        code = asyncio.run(stack.run())
    except StartupError as exc:
        click.echo(f"pyoco-server: {exc}", err=True)
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
