"""`pyoco-worker`: run a worker that executes the runs of its tags.

    pyoco-worker --nats-url nats://127.0.0.1:4222 --tags hello --worker-id w1

SIGTERM or SIGINT stops it in order (see `Worker._shutdown`); a second signal exits at once.

This module parses the command line only; `service.py` builds and runs the worker, and is
imported when the command runs. multiprocessing imports the worker's main module (this one,
whether started as `python -m pyoco_worker.cli` or as the `pyoco-worker` script) again in
every run process it starts: importing the worker from here would load NATS, uvloop and the
supervisor's code into each of them, against the boundary of code that runs inside run
processes (pyproject.toml's import contracts), and cost each one 6 MiB of private memory.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path

import click

from pyoco_server.domain import names
from pyoco_server.domain.errors import SettingsError
from pyoco_server.domain.settings import Settings
from pyoco_server.logs import configure_logging
from pyoco_worker.flows import ResolverError, load_resolver

DEFAULT_CONCURRENCY = max(4, 2 * (os.cpu_count() or 1))
"""Two runs per CPU (at least 4): while one computes, another waits on NATS or I/O."""


def _tags(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if value is None:
        return None
    tags = tuple(tag.strip() for tag in value.split(",") if tag.strip())
    bad = [tag for tag in tags if not names.is_tag(tag)]
    if not tags or bad:
        raise click.BadParameter(
            f"{', '.join(bad) or value!r}: tags are comma-separated, each {names.TAG_RULE} "
            "(for example --tags cpu,gpu)"
        )
    return tags


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--nats-url", help="NATS server URL [default: PYOCO_NATS_URL or nats://127.0.0.1:4222]"
)
@click.option(
    "--tags", callback=_tags, help="Comma-separated tags to serve [default: PYOCO_DEFAULT_TAG]"
)
@click.option(
    "--worker-id",
    help="Name of this worker in snapshots and the registry [default: the host name, or "
    "<host>-2, <host>-3, ... while a live worker has it].",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Runs executed at once, each in its own process (default: two per CPU, at least 4, "
    "so every core stays busy while other runs wait on NATS or I/O).",
)
@click.option(
    "--flow-resolver",
    metavar="MODULE:FUNCTION",
    help="Function mapping a flow name to a pyoco Flow, for runs submitted with "
    "POST /runs ('module:function' or 'path/to/file.py:function').",
)
@click.option(
    "--wheel-sync/--no-wheel-sync",
    default=None,
    help="Install the registry's wheels for this worker's tags, and those its runs are bound "
    "to [default: PYOCO_WHEEL_SYNC_ENABLED].",
)
@click.option(
    "--wheel-sync-dir",
    type=click.Path(path_type=Path),
    help="Where wheels are installed [default: PYOCO_WHEEL_SYNC_DIR, .pyoco/wheels].",
)
@click.option(
    "--wheel-sync-interval-sec",
    type=click.FloatRange(min=0.1),
    help="Check the wheels again this often although the index did not change (changes are "
    "followed as they happen) [default: PYOCO_WHEEL_SYNC_INTERVAL_SEC, 60].",
)
@click.option(
    "--wheel-install-timeout-sec",
    type=click.FloatRange(min=1),
    help="Give up installing one wheel after this long [default: "
    "PYOCO_WHEEL_INSTALL_TIMEOUT_SEC, 180].",
)
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Replace run processes whose task modules changed on disk before they take another "
    "run; without it the worker keeps running the code it loaded, in every run process, and "
    "warns that it must be restarted [default: PYOCO_WORKER_RELOAD, off].",
)
@click.option(
    "--task-modules",
    metavar="MODULES",
    help="Comma-separated modules whose callables flow.yaml tasks may use, besides registry "
    "wheels and the demo tasks [default: PYOCO_TASK_MODULES].",
)
def main(
    nats_url: str | None,
    tags: tuple[str, ...] | None,
    worker_id: str | None,
    flow_resolver: str | None,
    concurrency: int,
    wheel_sync: bool | None,
    wheel_sync_dir: Path | None,
    wheel_sync_interval_sec: float | None,
    wheel_install_timeout_sec: float | None,
    reload: bool | None,
    task_modules: str | None,
) -> None:
    """Pull runs of TAGS from NATS JetStream and execute them with pyoco."""
    import_from_working_directory()
    settings = _settings(nats_url, wheel_sync, wheel_sync_dir, task_modules)
    settings = settings.replace(
        **{
            name: value
            for name, value in (
                ("wheel_sync_interval_sec", wheel_sync_interval_sec),
                ("wheel_install_timeout_sec", wheel_install_timeout_sec),
                ("worker_reload", reload),
            )
            if value is not None
        }
    )
    configure_logging(settings, "pyoco-worker")
    if flow_resolver:
        flow_resolver = _absolute(flow_resolver)
        try:
            load_resolver(flow_resolver)  # fail here, clearly, rather than in every run process
        except ResolverError as exc:
            raise click.UsageError(str(exc)) from None
    if worker_id is not None and not names.is_worker_id(worker_id):
        raise click.BadParameter(f"{worker_id!r}: {names.WORKER_ID_RULE}", param_hint="--worker-id")
    from pyoco_worker import service  # not at the top: see the module's docstring

    service.run(
        settings,
        worker_id=worker_id or host_worker_id(),
        claim_id=worker_id is None,
        tags=tags or (settings.default_tag,),
        concurrency=concurrency,
        flow_resolver=flow_resolver,
    )


def _settings(
    nats_url: str | None,
    wheel_sync: bool | None,
    wheel_sync_dir: Path | None,
    task_modules: str | None,
) -> Settings:
    environ = dict(os.environ)
    if task_modules is not None:
        environ["PYOCO_TASK_MODULES"] = task_modules
    try:
        settings = Settings.from_env(environ)
    except SettingsError as exc:
        raise click.UsageError(
            f"{exc} (fix the option, the environment variable or .env)"
        ) from None
    changes: dict[str, object] = {}
    if nats_url:
        changes["nats_url"] = nats_url
    if wheel_sync is not None:
        changes["wheel_sync_enabled"] = wheel_sync
    if wheel_sync_dir is not None:
        changes["wheel_sync_dir"] = str(wheel_sync_dir)
    return settings.replace(**changes)


def import_from_working_directory() -> None:
    """Let the worker and its run processes import modules from the working directory.

    `python -m pyoco_worker.cli` (and so `pyoco-server up`) has it on `sys.path`; the
    `pyoco-worker` script has its own directory there instead, and its runs failed with "No
    module named ..." for task modules that `up`'s worker ran. Added last, so it shadows
    nothing installed; run processes get this `sys.path` from multiprocessing.
    """
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        sys.path.append(here)


def host_worker_id() -> str:
    """This host's name as a worker id (characters an id cannot hold become '-')."""
    name = re.sub(r"[^A-Za-z0-9_.=-]", "-", socket.gethostname()).strip(".")[:120]
    return name if names.is_worker_id(name) else "worker"


def _absolute(spec: str) -> str:
    """A `file.py:function` resolver with its file made absolute (run processes chdir)."""
    target, sep, attribute = spec.rpartition(":")
    if sep and target.endswith(".py"):
        return f"{Path(target).expanduser().resolve()}:{attribute}"
    return spec


if __name__ == "__main__":
    main()
