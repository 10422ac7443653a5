"""Every use of a Connexion 3.3 internal: here, in gateway/_routing.py, _lane.py, _validators.py.

The gateway relies on a few parts of Connexion that are not its public API. Each is here (the
request validators in `_validators`), with why; `tests/server/test_connexion_internals.py` and
`test_connexion_shortcuts.py` check each one against the installed Connexion and fail loudly,
naming the part, when an upgrade changes it.

- Each operation's body definition is computed once (`_remember_body_definitions`).
- A request's content type is read without building typing generics (`content_type_of`).
- The decorator chain of an operation is built once instead of on every request
  (`_DecorateOnce`, `_Operation`, `_Api`, `_ASGIApp`, `GatewayApp`): profiling showed it as a
  large share of the gateway's CPU per request. The chain holds no per-request state.
- The middleware stack leaves out the layers this configuration does not use and puts the
  API-key check where Connexion's security layer was (`middleware_stack`); its routing is
  taken by fewer requests (gateway/_routing.py: `SwaggerUIOnItsPaths`, `LiteralRoutes`), and
  its last four layers by none of the requests that carry only a body (gateway/_lane.py).
- Operations resolve to the handler object of their tag (`TagResolver`, which reads the
  operation's raw spec).
- The handlers' requests decode the multipart JSON parts as the validators do (`JsonParts`)
  and take the form the multipart validator parsed (`PARSED_FORM`).
- JSON responses are written with orjson (`FastJsonifier`).
- The API-key middleware reads the matched operation from the routing layer's scope entry
  (`matched_operation_id`).
- Handlers read the request's scope and headers from Connexion's context variable
  (`current_scope`, `current_header`), not through `connexion.request`.

Importing Connexion imports `starlette.testclient`, which warns about httpx on every start; the
warning is silenced for that import only.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Any

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from connexion import AsyncApp, utils
    from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
    from connexion.context import operation, receive, scope
    from connexion.decorators.main import StarletteDecorator
    from connexion.jsonifier import Jsonifier
    from connexion.middleware import ConnexionMiddleware
    from connexion.middleware.request_validation import RequestValidationMiddleware
    from connexion.middleware.response_validation import ResponseValidationMiddleware
    from connexion.middleware.routing import RoutingMiddleware
    from connexion.middleware.security import SecurityMiddleware
    from connexion.middleware.server_error import ServerErrorMiddleware
    from connexion.middleware.swagger_ui import SwaggerUIMiddleware
    from connexion.operations import OpenAPIOperation
    from connexion.options import SwaggerUIOptions as SwaggerUIOptions
    from connexion.resolver import Resolution, Resolver
from starlette.datastructures import FormData
from starlette.types import Scope

from pyoco_server.domain.codec import dumps, loads
from pyoco_server.gateway._lane import BodyLane
from pyoco_server.gateway._multipart import (
    PARSED_BODY,
    PARSED_FORM,
    JsonParts,
    form_arguments,
    form_body_definition,
)
from pyoco_server.gateway._routing import ROUTING_EXTENSION, SwaggerUIOnItsPaths


def matched_operation_id(asgi_scope: Scope) -> str | None:
    """The operationId the routing layer matched; None when it matched none.

    Raises:
        LookupError: the request was not routed by Connexion (the layers are out of order).
    """
    routing = (asgi_scope.get("extensions") or {}).get(ROUTING_EXTENSION)
    if routing is None:
        raise LookupError("the request did not pass Connexion's routing layer")
    operation_id = routing.get("operation_id")
    return str(operation_id) if operation_id else None


def current_scope() -> Scope:
    """The ASGI scope of the request being handled.

    `connexion.request` makes a new request object, with a new Starlette request inside, at
    every attribute read: 13-16 µs to read the caller's principal or a header, against under
    half a µs from the scope.

    Raises:
        RuntimeError: no request is being handled.
    """
    current: Scope = scope._get_current_object()
    return current


def current_header(name: bytes) -> str | None:
    """The first value of the request's header `name` (lower case); None without one.

    As Starlette's `Headers.get` reads it from the scope (`connexion.request.headers`).
    """
    for key, value in current_scope()["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _remember_body_definitions() -> None:
    """Make `OpenAPIOperation.body_definition` compute each content type's definition once.

    Connexion's layers ask an operation for its body definition about six times a request, and
    each time it looks the content type up in a new `MediaTypeDict` and re-attaches the spec's
    components: a tenth of the CPU of a small request. The answer depends only on the
    operation's spec, which does not change after it is built.
    """
    compute = COMPUTED_BODY_DEFINITION
    if getattr(OpenAPIOperation.body_definition, "remembered", False):
        return

    def body_definition(self: Any, content_type: str | None = None) -> dict[str, Any]:
        known: dict[str | None, dict[str, Any]] = self.__dict__.setdefault(_BODY_DEFINITIONS, {})
        definition = known.get(content_type)
        if definition is None:
            definition = known[content_type] = compute(self, content_type)
        return definition

    body_definition.remembered = True  # type: ignore[attr-defined]
    body_definition.computes = compute  # type: ignore[attr-defined]
    OpenAPIOperation.body_definition = body_definition


_BODY_DEFINITIONS = "_pyoco_body_definitions"
COMPUTED_BODY_DEFINITION = getattr(
    OpenAPIOperation.body_definition, "computes", OpenAPIOperation.body_definition
)
"""Connexion's own `body_definition`, which the remembered one calls once per content type."""
_remember_body_definitions()


def content_type_of(headers: Any) -> str | None:
    """The Content-Type of ASGI `headers` (pairs) or a dict; None without one.

    `connexion.utils.extract_content_type`, which the request validation layer and the response
    decorator call on every request, answers the same but builds five typing generics per call
    to annotate a local variable: 5.7 against 0.6 µs.
    """
    for key, value in headers.items() if isinstance(headers, dict) else headers:
        name = key.decode("latin-1") if isinstance(key, bytes) else key
        if name.lower() == "content-type":
            content_type: str | None = (
                value.decode("latin-1") if isinstance(value, bytes) else value
            )
            return content_type
    return None


CONNEXIONS_CONTENT_TYPE = getattr(
    utils.extract_content_type, "replaces", utils.extract_content_type
)
"""Connexion's own `extract_content_type` (tests compare `content_type_of` with it)."""
content_type_of.replaces = CONNEXIONS_CONTENT_TYPE  # type: ignore[attr-defined]
utils.extract_content_type = content_type_of


class _DecorateOnce(StarletteDecorator):
    """A `StarletteDecorator` that decorates its function once, on the first request.

    The handlers of submits skip Connexion's parameter decorator, which would read the body
    again to build the same arguments: a handler taking only `body`, of an operation whose JSON
    body the request validator parsed and validated (`PARSED_BODY`), is called with that body;
    one taking `body` and files, of a multipart operation whose form the validator parsed
    (`PARSED_FORM`), with the arguments Connexion's own functions make of that form
    (`_multipart.form_arguments`). Either reply is made a response by Connexion's response
    decorator.
    """

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        decorated: Callable[..., Any] | None = None
        uri_parser: Any = None
        responses: Any = None
        arguments = list(inspect.signature(function).parameters)
        body_only = arguments == ["body"]
        with_files = arguments[:1] == ["body"] and len(arguments) > 1

        @functools.wraps(function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal decorated, uri_parser, responses
            if decorated is None:
                uri_parser = JsonParts(self.uri_parser)
                decorated = self.decorate(function)
                responses = self._response_decorator_cls(
                    framework=self.framework, jsonifier=self.jsonifier
                )
            asgi_scope: Scope = scope._get_current_object()  # one context lookup, not several
            if body_only and PARSED_BODY in asgi_scope:
                body = asgi_scope[PARSED_BODY]
                return responses.build_framework_response(await function(body))
            if with_files and PARSED_FORM in asgi_scope:
                definition = form_body_definition(operation._get_current_object())
                kwargs = form_arguments(asgi_scope, definition, uri_parser, arguments)
                return responses.build_framework_response(await function(**kwargs))
            request = self.framework.get_request(
                uri_parser=uri_parser, scope=scope, receive=receive
            )
            items = scope.get(PARSED_FORM)
            if items is not None:  # the multipart validator parsed it: not a second time
                request._starlette_request._form = FormData(items)
            return await decorated(request)

        return wrapper


class _Operation(AsyncOperation):
    @functools.cached_property
    def fn(self) -> Callable[..., Any]:
        """The handler with its decorator chain, built once."""
        decorator = _DecorateOnce(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)
        return decorator(self._fn)


class _Api(AsyncApi):
    def make_operation(self, operation: Any) -> AsyncOperation:
        return _Operation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )


class _ASGIApp(AsyncASGIApp):
    api_cls = _Api


class GatewayApp(AsyncApp):
    """`AsyncApp` whose operations decorate their handlers once."""

    def __init__(self, import_name: str, **kwargs: Any) -> None:
        super().__init__(import_name, **kwargs)
        self._middleware_app = _ASGIApp()
        self.middleware.app = self._middleware_app


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


def middleware_stack(
    *,
    validate_responses: bool,
    outermost: Callable[[Any], Any],
    access: Callable[[Any], Any] | None,
    observer: Callable[[Any], Any],
    after_routing: Callable[[Any], Any] | None = None,
    before_routing: Callable[[Any], Any] | None = None,
    after_access: Callable[[Any], Any] | None = None,
    in_front: Callable[[Any], Any] | None = None,
    literal_routes: Callable[[Any], Any] | None = None,
    before_all: Callable[[Any], Any] | None = None,
) -> list[Any]:
    """Connexion's middleware stack without the layers this configuration does not use.

    Every layer routes each request again; response validation (tests and CI only) would route
    and then do nothing. Connexion's security layer is never used: with API keys on, `access`
    takes its place, right after routing; with them off there is nothing to check.

    Layers are added: `outermost` (request ids, so that every response carries one, a 500
    included), `observer` just inside the server-error layer (request durations, so that the
    problem responses of the exception layer are recorded with their status), and
    `after_routing` right after routing (body limits, which need the operation),
    `before_routing` right before it (inside the exception layer, so what it raises is answered
    as a problem), and `after_access` right after the API-key check (submit rates, which need
    the caller), and `in_front` right inside `outermost` (the dashboard, which answers its
    own paths before any of Connexion's layers), `before_all` right inside that (what every
    later layer must see of the request). `literal_routes` (`LiteralRoutes`) goes in
    front of the routing layers it lets requests skip, inside the exception layer; `BodyLane`
    right before the request-validation layer, whose work it does for body-only operations.
    """
    layers: list[Any] = []
    for layer in ConnexionMiddleware.default_middlewares:
        if layer is RoutingMiddleware:
            layers.extend(
                [
                    *([before_routing] if before_routing is not None else []),
                    layer,
                    *([after_routing] if after_routing is not None else []),
                ]
            )
        elif layer is SwaggerUIMiddleware:
            layers.extend([*([literal_routes] if literal_routes else []), SwaggerUIOnItsPaths])
        elif layer is SecurityMiddleware:
            layers.extend(extra for extra in (access, after_access) if extra is not None)
        elif layer is RequestValidationMiddleware:
            layers.extend([BodyLane, layer])
        elif validate_responses or layer is not ResponseValidationMiddleware:
            layers.append(layer)
    layers.insert(layers.index(ServerErrorMiddleware) + 1, observer)
    front = [extra for extra in (in_front, before_all) if extra is not None]
    return [outermost, *front, *layers]


class FastJsonifier(Jsonifier):
    """Connexion's JSON (de)serialiser on `codec`: orjson writes responses much faster."""

    def dumps(self, data: Any, **kwargs: Any) -> str:
        """JSON text of `data` (Connexion adds no options for our responses)."""
        return dumps(data).decode() + "\n"

    def loads(self, data: Any) -> Any:
        """Parse JSON; like Connexion, text that is not JSON is returned as is."""
        try:
            return loads(data)
        except ValueError:
            return data.decode() if isinstance(data, bytes) else data
