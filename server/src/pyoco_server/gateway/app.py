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
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from connexion import AsyncApp
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.resolver import Resolution, Resolver

from pyoco_server.aio import cancel_and_wait
from pyoco_server.contracts import compile_all, load_openapi
from pyoco_server.deadletters import DeadLetterService
from pyoco_server.exhaustion import MaxDeliveriesHandler
from pyoco_server.gateway.auth import api_key_layer
from pyoco_server.gateway.dlq import DlqApi
from pyoco_server.gateway.health import HealthApi
from pyoco_server.gateway.metrics import (
    GatewayMetrics,
    RequestMetricsMiddleware,
    multiprocess_dir,
)
from pyoco_server.gateway.operations import GatewayApp
from pyoco_server.gateway.ops import OpsApi
from pyoco_server.gateway.problems import EXCEPTION_HANDLERS, MethodNotAllowed
from pyoco_server.gateway.requests import RequestIdMiddleware
from pyoco_server.gateway.runs import RunsApi
from pyoco_server.gateway.runview import RunView
from pyoco_server.gateway.shutdown import on_exit_signal
from pyoco_server.gateway.validation import VALIDATORS, FastJsonifier
from pyoco_server.gateway.workers import WorkersApi
from pyoco_server.idempotency import IdempotentSubmits
from pyoco_server.jetstream import (
    ApiKeyCache,
    Connection,
    NatsCancelNotices,
    NatsDeadLetters,
    NatsDeployment,
    NatsIdempotencyKeys,
    NatsJobQueue,
    NatsRunStore,
    NatsWorkerRegistry,
    NatsWorkStream,
    listen_max_deliveries,
)
from pyoco_server.logs import configure_logging
from pyoco_server.runs import RunService
from pyoco_server.settings import Settings
from pyoco_server.subjects import Subjects
from pyoco_server.workers import WorkerService

log = logging.getLogger(__name__)

_STARTUP_WAIT_SEC = 5.0


class TagResolver(Resolver):
    """Resolves an operation to `handlers[tag].<operationId>`."""

    def __init__(self, handlers: Mapping[str, object]) -> None:
        super().__init__()
        self._handlers = handlers

    def resolve(self, operation: Any) -> Resolution:
        """The bound method implementing `operation`."""
        return Resolution(
            handler_for(self._handlers, operation._operation.get("tags"), operation.operation_id),
            operation.operation_id,
        )


def handler_for(handlers: Mapping[str, object], tags: Any, operation_id: str) -> Any:
    """The method implementing `operation_id` (of the operation tagged `tags`)."""
    if not isinstance(tags, list) or len(tags) != 1 or tags[0] not in handlers:
        raise TypeError(f"openapi.yaml: operation {operation_id} needs exactly one known tag")
    method = getattr(handlers[tags[0]], operation_id, None)
    if method is None:
        raise TypeError(
            f"openapi.yaml: operation {operation_id} has no handler "
            f"{type(handlers[tags[0]]).__name__}.{operation_id}"
        )
    return method


def check_handlers(spec: Mapping[str, Any], handlers: Mapping[str, object]) -> None:
    """Fail now, not at the first request, if an operation of `spec` has no handler."""
    for path_item in spec["paths"].values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                handler_for(handlers, operation.get("tags"), operation["operationId"])


def handlers_for(
    connection: Connection, settings: Settings, view: RunView, metrics: GatewayMetrics
) -> dict[str, object]:
    """The handler object of each OpenAPI tag."""
    store = NatsRunStore(connection)
    queue = NatsJobQueue(connection)
    service = RunService(store, queue, settings, notifier=NatsCancelNotices(connection))
    submits = IdempotentSubmits(service, NatsIdempotencyKeys(connection))
    workers = WorkerService(NatsWorkerRegistry(connection), settings)
    dead_letters = DeadLetterService(NatsDeadLetters(connection), store, queue)
    return {
        "health": HealthApi(),
        "runs": RunsApi(service, submits, view, settings, on_submitted=metrics.submitted),
        "workers": WorkersApi(workers),
        "dlq": DlqApi(dead_letters),
        "ops": OpsApi(metrics, NatsDeployment(connection)),
    }


async def _handle_max_deliveries(connection: Connection) -> None:
    """Once NATS is up, end the runs whose jobs run out of deliveries (see exhaustion.py)."""
    await connection.wait_ready()
    handler = MaxDeliveriesHandler(
        NatsRunStore(connection),
        NatsDeadLetters(connection),
        NatsWorkStream(connection),
        Subjects.from_settings(connection.settings),
    )
    subscription = await listen_max_deliveries(connection, handler.handle)
    try:
        await asyncio.Event().wait()  # until the lifespan ends and cancels this task
    finally:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()


async def _load_keys(keys: ApiKeyCache, connection: Connection) -> None:
    """Start following the API keys; with NATS up, give them a moment to arrive."""
    keys.start()
    if not connection.ready or not await keys.wait_loaded(_STARTUP_WAIT_SEC):
        log.warning("API keys not loaded yet; answering 503 where a key is needed until they are")


def middlewares(
    validate_responses: bool,
    auth_layer: Callable[[Any], Any] | None = None,
    *,
    metrics: GatewayMetrics,
) -> list[Any]:
    """Connexion's middleware stack without the layers this configuration does not use.

    Every layer routes each request again; response validation (tests and CI only) would route
    and then do nothing. Connexion's security layer is never used: with API keys on,
    `auth_layer` (gateway/auth.py) takes its place, right after routing; with them off there is
    nothing to check.

    Two layers are added: request ids outermost, so that every response carries one (a 500
    included), and request durations just inside the server-error layer, so that the problem
    responses of the exception layer are recorded with their status.
    """
    layers: list[Any] = []
    for layer in ConnexionMiddleware.default_middlewares:
        if layer is SecurityMiddleware:
            layers.extend([auth_layer] if auth_layer is not None else [])
        elif validate_responses or layer is not ResponseValidationMiddleware:
            layers.append(layer)
    observed = layers.index(ServerErrorMiddleware) + 1
    layers.insert(observed, functools.partial(RequestMetricsMiddleware, metrics=metrics))
    return [RequestIdMiddleware, *layers]


def served_spec(settings: Settings) -> dict[str, Any]:
    """openapi.yaml as this gateway serves it: with auth off, no operation requires a key.

    With API keys on, the spec's global security stays, so the served contract says a key is
    needed (and the API-key middleware reads from it which operations need one).
    """
    spec = load_openapi()
    if settings.http_auth_mode == "none":
        spec["security"] = []
    return spec


def app_from_env() -> AsyncApp:
    """The uvicorn factory: settings and logging from the environment."""
    settings = Settings.from_env()
    configure_logging(settings, "pyoco-server")
    return create_app(settings, validate_responses=settings.http_validate_responses)


def create_app(settings: Settings, *, validate_responses: bool = False) -> AsyncApp:
    """Build the gateway for `settings`."""
    compile_all()
    connection = Connection(settings, "pyoco-http-api")
    keys = ApiKeyCache(connection) if settings.http_auth_mode == "api_key" else None

    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        await connection.start()
        if not await connection.wait_ready(_STARTUP_WAIT_SEC):
            log.warning("NATS not ready yet; answering 503 until it is")
        if keys is not None:
            await _load_keys(keys, connection)
        advisories = asyncio.create_task(_handle_max_deliveries(connection))
        view.start()
        if connection.ready and not await view.wait_loaded(_STARTUP_WAIT_SEC):
            log.warning("run index not loaded yet; listing answers 503 until it is")
        try:
            with on_exit_signal(view.hub.close):
                yield
        finally:
            await view.stop()
            await cancel_and_wait(advisories)
            if keys is not None:
                await keys.stop()
            await connection.close()

    spec = served_spec(settings)
    view = RunView(connection)
    # prometheus-client picks file-backed values from this variable when imported; follow it.
    metrics = GatewayMetrics(
        multiprocess_dir=multiprocess_dir(os.environ), run_counts=view.index.counts_by_status
    )
    handlers = handlers_for(connection, settings, view, metrics)
    check_handlers(spec, handlers)
    app = GatewayApp(
        __name__,
        lifespan=lifespan,
        middlewares=middlewares(
            validate_responses,
            api_key_layer(keys, spec, settings) if keys is not None else None,
            metrics=metrics,
        ),
        jsonifier=FastJsonifier(),
    )
    app.add_api(
        spec,
        resolver=TagResolver(handlers),
        strict_validation=True,
        validate_responses=validate_responses,
        pythonic_params=False,
        validator_map=VALIDATORS,
    )
    for exception, handler in EXCEPTION_HANDLERS:
        app.add_error_handler(exception, handler)
    app.add_error_handler(405, MethodNotAllowed(spec))
    return app
