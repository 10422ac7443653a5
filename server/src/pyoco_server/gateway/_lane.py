"""Requests that carry only a body, validated and handed to their operation in one step.

For an operation whose only parameters are optional headers (`POST /runs`, `POST /runs/yaml`),
Connexion's last four layers do, for each request: route it again in its request-validation
layer, build a parameter validator and a URI parser for the operation, look for query
parameters, check the content type against a media-type table built for the request, validate
the body, then route it again in its lifespan, context and application layers. `BodyLane`,
placed right before the request-validation layer, does for such a request what those layers
do, with the same objects: the same header check (`validate_parameter` of the operation's
parameter validator), the same body validator built with the same arguments (so the same
errors, word for word; the gateway's own validators, which keep no state between requests, are
built once per content type: `_validators.STATELESS_VALIDATORS`), the same context, the same
operation (its handler and response decorator). A request it cannot vouch for as simply takes
the usual way, before anything is read: one with a query string, a content type the operation
does not list as it is, a header parameter that does not validate, or an operation with other
parameters. With response validation on (`PYOCO_HTTP_VALIDATE_RESPONSES`), every request takes
the usual way, through it.

`tests/server/test_connexion_lane.py` sends the same requests, valid and not, both ways and
compares the answers. This module is one of the three that use Connexion's internals (with
gateway/_connexion.py and _routing.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from connexion import utils
from connexion.context import _context, _operation, _receive, _scope
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from pyoco_server.gateway._routing import ROUTING_EXTENSION
from pyoco_server.gateway._validators import STATELESS_VALIDATORS


@dataclasses.dataclass(frozen=True, slots=True)
class _Lane:
    """What the usual layers use for one operation, found once in the built stack."""

    validation: Any
    """Connexion's `RequestValidationOperation` (its validator map, strictness, operation)."""
    consumes: frozenset[str]
    header_parameters: tuple[dict[str, Any], ...]
    parameters: Any
    """The parameter validator the request-validation layer builds for the operation."""
    spec_operation: Any
    """The operation the context layer sets (`connexion.context.operation`)."""
    call: ASGIApp
    """The application's operation: the handler and its response decorator."""
    validators: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The body validator of each content type the operation lists, once built: the first
    request of each type finds the schema and the validator's class, later ones this."""


class BodyLane:
    """Connexion's request validation, context and application layers in one step (above)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lanes: dict[tuple[Any, Any], _Lane | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self._lane(scope) if scope["type"] == "http" else None
        if lane is None or scope.get("query_string"):
            await self.app(scope, receive, send)
            return
        mime_type, encoding = utils.split_content_type(utils.extract_content_type(scope["headers"]))
        if mime_type is None or mime_type.lower() not in lane.consumes:
            await self.app(scope, receive, send)
            return
        validator = _body_validator(lane, mime_type, encoding)
        if validator is _USUAL or not _headers_valid(lane, scope):
            await self.app(scope, receive, send)  # the usual way words any error
            return
        if validator is not None:
            receive, scope = await validator.wrap_receive(receive, scope=scope)
        _context.set(scope.get("extensions", {}).get("connexion_context", {}))
        _operation.set(lane.spec_operation)
        _receive.set(receive)
        _scope.set(scope)
        await lane.call(scope, receive, send)

    def _lane(self, scope: Scope) -> _Lane | None:
        routing = scope.get("extensions", {}).get(ROUTING_EXTENSION) or {}
        key = (routing.get("api_base_path"), routing.get("operation_id"))
        if key not in self._lanes:
            self._lanes[key] = _lane_of(self.app, *key)
        return self._lanes[key]


_USUAL = object()
"""`_body_validator`'s answer for a request that takes the usual way."""


def _body_validator(lane: _Lane, mime_type: str, encoding: str | None) -> Any:
    """The body validator of a request to `lane`.

    None when there is no body schema to check; `_USUAL` when the usual way would skip
    validation (and say so).
    """
    kept = encoding is None and mime_type in lane.consumes  # a bounded set of keys
    validator = lane.validators.get(mime_type) if kept else None
    if validator is not None:
        return validator
    validation = lane.validation
    operation = validation._operation
    schema = operation.body_schema(mime_type)
    if not schema:
        return None
    body_validator = validation._validator_map["body"].get(mime_type)
    if body_validator is None:
        return _USUAL
    validator = body_validator(
        schema=schema,
        required=operation.request_body.get("required", False),
        nullable=utils.is_nullable(operation.body_definition(mime_type)),
        encoding=encoding or "utf-8",
        strict_validation=validation.strict_validation,
        uri_parser=operation.uri_parser_class(operation.parameters, operation.body_definition()),
    )
    if kept and isinstance(validator, STATELESS_VALIDATORS):
        lane.validators[mime_type] = validator
    return validator


def _headers_valid(lane: _Lane, scope: Scope) -> bool:
    """True unless a header parameter of the request does not validate."""
    if not lane.header_parameters:
        return True
    headers = Headers(scope=scope)
    for parameter in lane.header_parameters:
        value = headers.get(parameter["name"])
        if value is not None and lane.parameters.validate_parameter("header", value, parameter):
            return False
    return True


def _lane_of(validation_layer: Any, base_path: Any, operation_id: Any) -> _Lane | None:
    """The lane of an operation, or None when it takes the usual way (see the module)."""
    if not isinstance(validation_layer, RequestValidationMiddleware) or operation_id is None:
        return None
    validation = _operation_of(validation_layer, base_path, operation_id)
    lifespan = getattr(validation, "next_app", None)
    if not isinstance(lifespan, LifespanMiddleware):  # response validation is on
        return None
    context_layer = lifespan.next_app
    if not isinstance(context_layer, ContextMiddleware):
        return None
    context = _operation_of(context_layer, base_path, operation_id)
    call = _operation_of(getattr(context, "next_app", None), base_path, operation_id)
    operation = validation._operation
    parameters = tuple(operation.parameters)
    if (
        call is None
        or not operation.consumes
        or any(p.get("in") != "header" or p.get("required") for p in parameters)
    ):
        return None
    return _Lane(
        validation=validation,
        consumes=frozenset(media_type.lower() for media_type in operation.consumes),
        header_parameters=parameters,
        parameters=validation._validator_map["parameter"](
            parameters,
            uri_parser=operation.uri_parser_class(parameters, operation.body_definition()),
            strict_validation=validation.strict_validation,
            security_query_params=validation.security_query_params,
        ),
        spec_operation=context.operation,
        call=call,
    )


def _operation_of(layer: Any, base_path: Any, operation_id: str) -> Any:
    """The operation a routed layer would call for `operation_id`, or None."""
    for api in getattr(layer, "apis", {}).get(base_path, ()):
        found = api.operations.get(operation_id)
        if found is not None:
            return found
    return None
