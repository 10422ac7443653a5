"""The gateway application: Connexion `AsyncApp` on openapi.yaml, served by uvicorn.

Each OpenAPI tag has one handler class; the resolver maps every operationId to the method of the
same name on the handler object of the operation's tag, so the spec and the code cannot drift
apart silently (a missing handler fails at start-up, and a contract test checks the reverse).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pyoco_server import heap
from pyoco_server.aio import cancel_and_wait, report_stalls
from pyoco_server.contracts import compile_all, load_openapi
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.subjects import Subjects
from pyoco_server.domain.trust import TaskPolicy
from pyoco_server.gateway._connexion import (
    FastJsonifier,
    GatewayApp,
    SwaggerUIOptions,
    TagResolver,
    check_handlers,
    middleware_stack,
)
from pyoco_server.gateway._routing import LiteralRoutes
from pyoco_server.gateway._validators import validators
from pyoco_server.gateway.access import api_key_layer
from pyoco_server.gateway.dashboard import Dashboard, DashboardMiddleware
from pyoco_server.gateway.handlers.dlq import DlqApi
from pyoco_server.gateway.handlers.health import HealthApi
from pyoco_server.gateway.handlers.logs import LogsApi
from pyoco_server.gateway.handlers.ops import OpsApi
from pyoco_server.gateway.handlers.runs import RunsApi
from pyoco_server.gateway.handlers.views import ViewsApi
from pyoco_server.gateway.handlers.wheels import WheelsApi
from pyoco_server.gateway.handlers.workers import WorkersApi
from pyoco_server.gateway.httpwrites import OneWriteProtocol
from pyoco_server.gateway.labels import TagLabels
from pyoco_server.gateway.limits import (
    BodyBudget,
    BodyLimitMiddleware,
    body_limits,
    form_field_limit,
)
from pyoco_server.gateway.mediatype import MediaTypeCase
from pyoco_server.gateway.metrics import (
    GatewayMetrics,
    RequestMetricsMiddleware,
    multiprocess_dir,
)
from pyoco_server.gateway.paths import LiteralPathMethods, literal_paths_first
from pyoco_server.gateway.problems import EXCEPTION_HANDLERS, MethodNotAllowed
from pyoco_server.gateway.ratelimit import submit_rate_layer
from pyoco_server.gateway.requests import RequestIdMiddleware
from pyoco_server.gateway.runevents import RunEvents
from pyoco_server.gateway.runview import RunView
from pyoco_server.gateway.shutdown import on_exit_signal
from pyoco_server.gateway.watch import WatchSlots
from pyoco_server.gateway.workflows import WorkflowParser
from pyoco_server.jetstream import NatsBackend
from pyoco_server.logs import configure_logging
from pyoco_server.ports import Backend
from pyoco_server.services.binding import RunCode, WheelCatalog
from pyoco_server.services.deadletters import DeadLetterService
from pyoco_server.services.exhaustion import MaxDeliveriesHandler
from pyoco_server.services.graphs import RunGraphs
from pyoco_server.services.idempotency import IdempotentSubmits
from pyoco_server.services.keys import ApiKeyCache
from pyoco_server.services.reaper import Reaper
from pyoco_server.services.runlogs import RunLogService
from pyoco_server.services.runs import RunService
from pyoco_server.services.throughput import Throughput
from pyoco_server.services.wheels import WheelService
from pyoco_server.services.workers import WorkerService
from pyoco_server.services.workflows import WorkflowTexts

log = logging.getLogger(__name__)

_STARTUP_WAIT_SEC = 5.0


def handlers_for(
    backend: Backend,
    view: RunView,
    metrics: GatewayMetrics,
    catalog: WheelCatalog | None = None,
    wheels: WheelService | None = None,
) -> dict[str, object]:
    """The handler object of each OpenAPI tag (`wheels`: the registry, else one made here)."""
    settings = backend.settings
    policy = TaskPolicy(settings.task_modules, settings.task_allow_all)
    service = RunService(
        backend.runs,
        backend.jobs,
        settings,
        notifier=backend.cancels,
        code=RunCode(catalog, policy),
        work=backend.work,
        workflows=WorkflowTexts(backend.workflows, settings.run_retention_sec),
        on_new_id=view.index.creating,
    )
    wheels = wheels or wheel_registry(backend, view)
    submits = IdempotentSubmits(service, backend.idempotency)
    workers = WorkerService(backend.workers, settings)
    dead_letters = DeadLetterService(backend.dead_letters, backend.runs, backend.jobs)
    # One count of open streams for per-run watches and run-list streams alike.
    slots = WatchSlots(settings.watch_max_streams, settings.watch_max_streams_per_key)
    events = RunEvents(view.feed, lambda: view.loaded, slots, settings.sse_heartbeat_sec)
    # One bound on concurrent flow.yaml parses (PYOCO_WORKFLOW_PARSE_CONCURRENCY) for submits
    # and graphs alike; graphs are cached per flow.yaml, so their parses are rare.
    parser = WorkflowParser(settings.workflow_parse_concurrency)
    graphs = RunGraphs(service.workflow_text, parser.parse)
    return {
        "health": HealthApi(),
        "logs": LogsApi(
            RunLogService(backend.logs, service, view.hub), slots, settings.sse_heartbeat_sec
        ),
        "views": ViewsApi(service, events, graphs),
        "runs": RunsApi(
            service,
            submits,
            view,
            settings,
            on_submitted=metrics.submitted,
            slots=slots,
            parser=parser,
        ),
        "workers": WorkersApi(workers),
        "dlq": DlqApi(dead_letters),
        "ops": OpsApi(metrics, backend.deployment),
        "wheels": WheelsApi(wheels, settings.wheel_max_bytes),
    }


async def _handle_max_deliveries(backend: Backend) -> None:
    """Once NATS is up, end the runs whose jobs run out of deliveries (see exhaustion.py)."""
    await backend.wait_ready()
    handler = MaxDeliveriesHandler(
        backend.runs,
        backend.dead_letters,
        backend.work,
        Subjects.from_settings(backend.settings),
    )
    subscription = await backend.advisories.listen(handler.handle)
    try:
        await asyncio.Event().wait()  # until the lifespan ends and cancels this task
    finally:
        await subscription.close()


def wheel_registry(backend: Backend, view: RunView) -> WheelService:
    """The wheel registry, told by `view` which wheels runs not ended are bound to."""
    return WheelService(
        backend.wheel_files, backend.wheel_index, backend.wheel_history, in_use=view.bound
    )


async def _reap(
    reaper: Reaper, view: RunView, interval: float, wheels: WheelService, catalog: WheelCatalog
) -> None:
    """Every `interval`, end the runs whose job is gone, and drop unneeded wheel files.

    The runs: reaper.py; the files of deleted wheel versions no run is bound to any more:
    `WheelService.drop_unused_files`.
    """
    while True:
        await asyncio.sleep(interval)
        if view.loaded:
            await reaper.sweep()
            if catalog.loaded:
                await wheels.drop_unused_files(catalog.records.values())


async def _load_keys(keys: ApiKeyCache, backend: Backend) -> None:
    """Start following the API keys; with NATS up, give them a moment to arrive."""
    keys.start()
    if not backend.ready or not await keys.wait_loaded(_STARTUP_WAIT_SEC):
        log.warning("API keys not loaded yet; answering 503 where a key is needed until they are")


def served_spec(settings: Settings) -> dict[str, Any]:
    """openapi.yaml as this gateway serves it (`/openapi.json`, `/docs/`), fitted to `settings`.

    Literal paths come before the templated ones they match (`literal_paths_first`). The API-key
    scheme names the header this gateway reads (PYOCO_HTTP_API_KEY_HEADER). With API keys on,
    the spec's global security stays, so the served contract says a key is needed (and the
    API-key middleware reads from it which operations need one); with them off, the global
    security is `[]`: no operation needs a key (one sent is ignored), which is what a client
    reading the served spec should do.
    """
    spec = load_openapi()
    spec["paths"] = literal_paths_first(spec["paths"])
    spec["components"]["securitySchemes"]["ApiKeyAuth"]["name"] = settings.http_api_key_header
    if settings.http_auth_mode == "none":
        spec["security"] = []
    return spec


def app_from_env() -> GatewayApp:
    """The uvicorn factory: settings and logging from the environment, NATS as the backend."""
    settings = Settings.from_env()
    configure_logging(settings, "pyoco-server")
    OneWriteProtocol.header_timeout_sec = settings.http_header_timeout_sec
    OneWriteProtocol.body_min_bytes_per_sec = settings.http_body_min_bytes_per_sec
    app = create_app(
        settings,
        NatsBackend(settings, "pyoco-http-api", role="gateway"),
        validate_responses=settings.http_validate_responses,
        metrics_dir=multiprocess_dir(os.environ),
    )
    heap.settle_after_startup()  # a server process: the app is what it keeps for its life
    return app


def create_app(
    settings: Settings,
    backend: Backend,
    *,
    validate_responses: bool = False,
    metrics_dir: Path | None = None,
) -> GatewayApp:
    """Build the gateway for `settings` on `backend` (which the app starts and closes).

    `metrics_dir` is prometheus-client's multiprocess directory, when several gateway processes
    share one port.
    """
    compile_all()
    keys = ApiKeyCache(backend) if settings.http_auth_mode == "api_key" else None

    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        await backend.start()
        if not await backend.wait_ready(_STARTUP_WAIT_SEC):
            log.warning("%s; answering 503 until it is ready", backend.unavailable_reason())
        if keys is not None:
            await _load_keys(keys, backend)
        advisories = asyncio.create_task(_handle_max_deliveries(backend))
        reaping = asyncio.create_task(
            _reap(reaper, view, settings.reaper_interval_sec, wheels, catalog)
        )
        stalls = asyncio.create_task(
            report_stalls(f"gateway process {os.getpid()}", asyncio.Event())
        )
        view.start()
        catalog.start()
        if backend.ready and not await view.wait_loaded(_STARTUP_WAIT_SEC):
            log.warning("run index not loaded yet; listing answers 503 until it is")
        if backend.ready and not await catalog.wait_loaded(_STARTUP_WAIT_SEC):
            log.warning("wheel index not loaded yet; submits answer 503 until it is")
        try:
            with on_exit_signal(view.close_streams):
                yield
        finally:
            await cancel_and_wait(stalls)
            await cancel_and_wait(advisories)
            await cancel_and_wait(reaping)  # it reads the run index, which view.stop closes
            await view.stop()
            await catalog.stop()
            if keys is not None:
                await keys.stop()
            await backend.close()

    spec = served_spec(settings)
    view = RunView(backend)
    reaper = Reaper(backend.runs, backend.work, view.index, settings)
    catalog = WheelCatalog(backend)
    wheels = wheel_registry(backend, view)
    labels = TagLabels(
        settings,
        pending_by_tag=lambda: view.index.counts_by_tag("PENDING"),
        registered=view.workers.tags,
    )
    metrics = GatewayMetrics(
        multiprocess_dir=metrics_dir,
        run_counts=view.index.counts_by_status,
        tags=labels,
        stale_runs=lambda: reaper.stale,
        history=Throughput(ready=lambda: view.loaded),
    )
    view.listen(metrics.history.changed)
    handlers = handlers_for(backend, view, metrics, catalog, wheels)
    check_handlers(spec, handlers)
    app = GatewayApp(
        __name__,
        lifespan=lifespan,
        middlewares=middleware_stack(
            validate_responses=validate_responses,
            outermost=RequestIdMiddleware,
            access=api_key_layer(keys, spec, settings) if keys is not None else None,
            observer=functools.partial(RequestMetricsMiddleware, metrics=metrics),
            after_routing=functools.partial(
                BodyLimitMiddleware,
                limits=body_limits(settings),
                budget=BodyBudget(settings.http_bodies_max_bytes),
            ),
            before_routing=functools.partial(LiteralPathMethods, spec=spec),
            after_access=submit_rate_layer(settings),
            in_front=functools.partial(DashboardMiddleware, dashboard=Dashboard(settings)),
            literal_routes=functools.partial(LiteralRoutes, spec=spec),
            before_all=MediaTypeCase,
        ),
        jsonifier=FastJsonifier(),
    )
    app.add_api(
        spec,
        resolver=TagResolver(handlers),
        strict_validation=True,
        validate_responses=validate_responses,
        pythonic_params=False,
        validator_map=validators(*form_field_limit(settings)),
        # `/ui/` is the dashboard's (dashboard.py); the API's Swagger UI is at `/docs/`.
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs"),
    )
    for exception, handler in EXCEPTION_HANDLERS:
        app.add_error_handler(exception, handler)
    app.add_error_handler(405, MethodNotAllowed(spec))
    return app
