"""Every use of a Connexion 3.3 internal, in one module.

The gateway relies on a few parts of Connexion that are not its public API. Each is here, with
why; `tests/server/test_connexion_internals.py` checks each one against the installed Connexion
and fails loudly, naming the part, when an upgrade changes it.

- The decorator chain of an operation is built once instead of on every request
  (`_DecorateOnce`, `_Operation`, `_Api`, `_ASGIApp`, `GatewayApp`): profiling showed it as a
  large share of the gateway's CPU per request. The chain holds no per-request state.
- The middleware stack leaves out the layers this configuration does not use and puts the
  API-key check where Connexion's security layer was (`middleware_stack`).
- Operations resolve to the handler object of their tag (`TagResolver`, which reads the
  operation's raw spec).
- Request validators name the bad parameter, compile its schema once, and refuse undecodable
  JSON with a 400 where Connexion crashed (`StrictJSONBodyValidator`, `NamedParameterValidator`);
  the multipart validator bounds the number and size of parts (`LimitedMultiPartValidator`)
  and, like the handlers' requests, decodes the JSON parts itself (`JsonParts`, which wraps
  the URI parser's `resolve_form`).
- JSON responses are written with orjson (`FastJsonifier`).
- The API-key middleware reads the matched operation from the routing layer's scope entry
  (`matched_operation_id`).

Importing Connexion imports `starlette.testclient`, which warns about httpx on every start; the
warning is silenced for that import only.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from connexion import AsyncApp
    from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
    from connexion.context import receive, scope
    from connexion.datastructures import MediaTypeDict
    from connexion.decorators.main import StarletteDecorator
    from connexion.exceptions import BadRequestProblem, ProblemException
    from connexion.jsonifier import Jsonifier
    from connexion.middleware import ConnexionMiddleware
    from connexion.middleware.response_validation import ResponseValidationMiddleware
    from connexion.middleware.routing import RoutingMiddleware
    from connexion.middleware.security import SecurityMiddleware
    from connexion.middleware.server_error import ServerErrorMiddleware
    from connexion.options import SwaggerUIOptions as SwaggerUIOptions
    from connexion.resolver import Resolution, Resolver
    from connexion.utils import is_null, is_nullable
    from connexion.validators import (
        VALIDATOR_MAP,
        JSONRequestBodyValidator,
        MultiPartFormDataValidator,
        ParameterValidator,
    )
from jsonschema import Draft4Validator, ValidationError
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import Scope

from pyoco_server.domain.codec import dumps, loads
from pyoco_server.domain.errors import PayloadTooLarge
from pyoco_server.gateway._multipart import PARSED_FORM, JsonParts, KeptForm

ROUTING_EXTENSION = "connexion_routing"
"""Where Connexion's routing layer records the matched operation in the ASGI scope."""


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


class _DecorateOnce(StarletteDecorator):
    """A `StarletteDecorator` that decorates its function once, on the first request."""

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        decorated: Callable[..., Any] | None = None
        uri_parser: Any = None

        @functools.wraps(function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal decorated, uri_parser
            if decorated is None:
                uri_parser = JsonParts(self.uri_parser)
                decorated = self.decorate(function)
            request = self.framework.get_request(
                uri_parser=uri_parser, scope=scope, receive=receive
            )
            form = scope.get(PARSED_FORM)
            if form is not None:  # the multipart validator parsed it: not a second time
                request._starlette_request._form = form
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
    own paths before any of Connexion's layers).
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
        elif layer is SecurityMiddleware:
            layers.extend(extra for extra in (access, after_access) if extra is not None)
        elif validate_responses or layer is not ResponseValidationMiddleware:
            layers.append(layer)
    layers.insert(layers.index(ServerErrorMiddleware) + 1, observer)
    return [outermost, *([in_front] if in_front is not None else []), *layers]


class StrictJSONBodyValidator(JSONRequestBodyValidator):
    """Connexion's JSON body validator, with clear errors for undecodable or non-JSON bodies.

    Connexion 3.3 decodes outside its try block, so a non-UTF-8 body became a 500. Parsing is
    `codec.loads`: strict (no NaN or Infinity, UTF-8 only), integers exact.
    """

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        if self._encoding.lower().replace("-", "") != "utf8":
            raise BadRequestProblem(
                detail=f"the request body must be UTF-8 JSON, not {self._encoding}"
            )
        try:
            return loads(raw)
        except ValueError as exc:
            raise BadRequestProblem(
                detail=f"the request body is not valid UTF-8 JSON: {exc}"
            ) from None


class LimitedMultiPartValidator(MultiPartFormDataValidator):
    """Connexion's multipart validator, taking only the parts the operation's schema declares.

    Starlette's parser allows 1,000 files and 1,000 fields by default; here a form may have as
    many files and fields as the schema has properties of each kind, and a field (not a file:
    files are bounded by the body limit) at most `max_field_bytes`, named by `field_setting`.
    Subclasses set both (`validators`).
    """

    max_field_bytes = 1024 * 1024
    field_setting: str | None = None

    def __init__(self, *args: Any, uri_parser: Any = None, **kwargs: Any) -> None:
        parser = None if uri_parser is None else JsonParts(uri_parser)
        super().__init__(*args, uri_parser=parser, **kwargs)

    @property
    def _form_parser_cls(self) -> Callable[..., KeptForm]:
        files, fields = _form_parts(self._schema)
        limited = functools.partial(
            MultiPartParser,
            max_files=max(len(files), 1),
            max_fields=max(len(fields), 1),
            max_part_size=self.max_field_bytes,
        )
        return lambda headers, stream: KeptForm(limited(headers, stream), self._scope)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        self._scope = scope  # a validator serves one request
        try:
            return await super()._parse(stream, scope)
        except MultiPartException as exc:
            raise self._refusal(str(exc)) from None

    def _refusal(self, message: str) -> Exception:
        if "exceeded maximum size" in message:
            return PayloadTooLarge("a form field", None, self.max_field_bytes, self.field_setting)
        if message.startswith("Too many"):
            files, fields = _form_parts(self._schema)
            refusal: Exception = ProblemException(
                status=400,
                title="Bad Request",
                detail=f"the form has more parts than this operation takes: at most one of "
                f"each of the files {', '.join(files)} and of the fields {', '.join(fields)}",
                ext={"reason": "invalid_multipart"},
            )
            return refusal
        return MultiPartException(message)


def _form_parts(schema: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The file fields and the other fields of a multipart schema."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    files = [name for name, spec in properties.items() if spec.get("format") == "binary"]
    return files, [name for name in properties if name not in files]


def validators(max_field_bytes: int, field_setting: str) -> dict[str, Any]:
    """The request validators, with multipart fields limited to `max_field_bytes`."""

    class Limited(LimitedMultiPartValidator):
        pass

    Limited.max_field_bytes = max_field_bytes
    Limited.field_setting = field_setting
    return {
        **VALIDATORS,
        "body": MediaTypeDict({**VALIDATORS["body"], "multipart/form-data": Limited}),
    }


class NamedParameterValidator(ParameterValidator):
    """Connexion's parameter validator, naming the parameter and compiling each schema once.

    Connexion reports a bad parameter with jsonschema's whole multi-line dump and without its
    name ("'AAA' is not one of [...]"), and deep-copies and compiles the schema on every request.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compiled: dict[int, Draft4Validator] = {}

    def validate_parameter(
        self, parameter_type: str, value: Any, param: dict[str, Any], param_name: Any = None
    ) -> str | None:
        """The problem with `value` for `param`, or None when it is valid."""
        if value is None:
            if param.get("required"):
                return f"the {parameter_type} parameter '{param['name']}' is required"
            return None
        if is_nullable(param) and is_null(value):
            return None
        try:
            self._validator(param).validate(value)
        except ValidationError as exc:
            return f"{parameter_type} parameter '{param['name']}': {exc.message}"
        return None

    def _validator(self, param: dict[str, Any]) -> Draft4Validator:
        # The parameter dicts are the operation's own and live as long as this validator.
        validator = self._compiled.get(id(param))
        if validator is None:
            schema = param.get("schema", param)
            validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
            self._compiled[id(param)] = validator
        return validator


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


VALIDATORS = {
    **VALIDATOR_MAP,
    "parameter": NamedParameterValidator,
    "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": StrictJSONBodyValidator}),
}
