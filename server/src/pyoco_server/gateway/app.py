"""The gateway application: Connexion `AsyncApp` on openapi.yaml, served by uvicorn.

Each OpenAPI tag has one handler class; the resolver maps every operationId to the method of the
same name on the handler object of the operation's tag, so the spec and the code cannot drift
apart silently (a missing handler fails at start-up, and a contract test checks the reverse).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from connexion import AsyncApp
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.resolver import Resolution, Resolver

from pyoco_server.aio import cancel_and_wait
from pyoco_server.contracts import compile_all, load_openapi
from pyoco_server.deadletters import DeadLetterService
from pyoco_server.errors import SettingsError
from pyoco_server.exhaustion import MaxDeliveriesHandler
from pyoco_server.gateway.dlq import DlqApi
from pyoco_server.gateway.health import HealthApi
from pyoco_server.gateway.operations import GatewayApp
from pyoco_server.gateway.problems import EXCEPTION_HANDLERS
from pyoco_server.gateway.runs import RunsApi
from pyoco_server.gateway.validation import VALIDATORS, FastJsonifier
from pyoco_server.gateway.workers import WorkersApi
from pyoco_server.jetstream import (
    Connection,
    NatsCancelNotices,
    NatsDeadLetters,
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


def handlers_for(connection: Connection, settings: Settings) -> dict[str, object]:
    """The handler object of each OpenAPI tag."""
    store = NatsRunStore(connection)
    queue = NatsJobQueue(connection)
    service = RunService(store, queue, settings, notifier=NatsCancelNotices(connection))
    workers = WorkerService(NatsWorkerRegistry(connection), settings)
    dead_letters = DeadLetterService(NatsDeadLetters(connection), store, queue)
    return {
        "health": HealthApi(),
        "runs": RunsApi(service, settings),
        "workers": WorkersApi(workers),
        "dlq": DlqApi(dead_letters),
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


def middlewares(settings: Settings, validate_responses: bool) -> list[Any]:
    """Connexion's middleware stack without the layers this configuration does not use.

    Every layer routes each request again; response validation (tests and CI only) and the
    security layer (API keys off) would route and then do nothing.
    """
    unused: set[Any] = set()
    if not validate_responses:
        unused.add(ResponseValidationMiddleware)
    if settings.http_auth_mode == "none":
        unused.add(SecurityMiddleware)
    return [layer for layer in ConnexionMiddleware.default_middlewares if layer not in unused]


def served_spec(settings: Settings) -> dict[str, Any]:
    """openapi.yaml as this gateway serves it: with auth off, no operation requires a key."""
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
    if settings.http_auth_mode != "none":
        raise SettingsError(
            "PYOCO_HTTP_AUTH_MODE",
            settings.http_auth_mode,
            "only 'none' is available in this version; API keys are not implemented yet",
        )
    compile_all()
    connection = Connection(settings, "pyoco-http-api")

    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        await connection.start()
        if not await connection.wait_ready(_STARTUP_WAIT_SEC):
            log.warning("NATS not ready yet; answering 503 until it is")
        advisories = asyncio.create_task(_handle_max_deliveries(connection))
        try:
            yield
        finally:
            await cancel_and_wait(advisories)
            await connection.close()

    spec = served_spec(settings)
    handlers = handlers_for(connection, settings)
    check_handlers(spec, handlers)
    app = GatewayApp(
        __name__,
        lifespan=lifespan,
        middlewares=middlewares(settings, validate_responses),
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
    return app
