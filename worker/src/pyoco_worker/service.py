"""The worker built from its settings and run until a stop signal.

This is what `pyoco-worker` does once its command line is parsed (cli.py, which imports this
module only then, so that run processes do not load it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import uvloop

from pyoco_server import heap
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.trust import TaskPolicy
from pyoco_server.jetstream import NatsBackend
from pyoco_worker import sandbox
from pyoco_worker.child import ChildConfig
from pyoco_worker.pool import ProcessPool
from pyoco_worker.worker import Worker

log = logging.getLogger("pyoco_worker")


def run(
    settings: Settings,
    *,
    worker_id: str,
    claim_id: bool,
    tags: tuple[str, ...],
    concurrency: int,
    flow_resolver: str | None,
) -> None:
    """Serve `tags` as `worker_id` until SIGTERM or SIGINT (a second one exits at once)."""
    pool = ProcessPool(
        concurrency,
        config=_child_config(settings, flow_resolver),
        flush_interval=settings.snapshot_flush_interval_sec,
        cancel_grace_sec=settings.cancel_grace_period_sec,
    )
    worker = Worker(
        NatsBackend(settings, f"pyoco-nats-worker:{worker_id}", role="worker"),
        worker_id=worker_id,
        tags=tags,
        executor=pool,
        concurrency=concurrency,
        shutdown_grace_sec=settings.worker_shutdown_grace_sec,
        claim_id=claim_id,
    )
    heap.settle_after_startup()
    # uvloop: a quarter less CPU per run for the worker's NATS and pipe traffic (bench/).
    uvloop.run(_serve(worker))


def _child_config(settings: Settings, resolver: str | None) -> ChildConfig:
    """What run processes start with: the task policy, exposable variables, their user."""
    workdir = Path(".pyoco/run").resolve()
    sandbox.prepare_workdir(workdir, settings.run_as_user)
    return ChildConfig(
        resolver_spec=resolver,
        policy=TaskPolicy(settings.task_modules, settings.task_allow_all),
        exposable=sandbox.exposable(os.environ, settings.task_env),
        run_as_user=settings.run_as_user,
        workdir=str(workdir),
        reload=settings.worker_reload,
        log_max_bytes=settings.run_log_max_bytes,
        memory_max_bytes=settings.run_memory_max_bytes,
        max_value_bytes=settings.max_run_snapshot_bytes,
        log_echo=settings.log_level == "debug",
    )


async def _serve(worker: Worker) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            log.warning("second %s: exiting now", signal.Signals(signum).name)
            sys.stderr.flush()
            os._exit(1)
        log.info("%s: stopping (send it again to exit at once)", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    await worker.run(stop)
