"""Every Connexion internal the gateway relies on (gateway/_connexion.py and _validators.py),
checked against the installed Connexion, so that an upgrade that breaks one fails here, naming
it.

The shape checks say what changed; the behaviour checks run the real gateway (on the in-memory
backend) through each internal.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import pytest
from connexion import request, utils
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.context import _receive, _scope
from connexion.decorators.main import StarletteDecorator
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.uri_parsing import OpenAPIURIParser
from connexion.validators import (
    FormDataValidator,
    JSONRequestBodyValidator,
    MultiPartFormDataValidator,
    ParameterValidator,
)
from hypothesis import given
from hypothesis import strategies as st
from starlette.formparsers import MultiPartParser
from starlette.testclient import TestClient

from pyoco_server.domain import keys
from pyoco_server.domain.records import Role
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import _connexion, _lane, _multipart, _routing, _validators, create_app
from pyoco_server.memory import MemoryBackend


def test_connexion_is_the_series_these_internals_were_written_for() -> None:
    assert metadata.version("connexion").startswith("3.3."), (
        "gateway/_connexion.py uses internals of Connexion 3.3; check each one against the "
        "new version (this module) before widening the pin"
    )


def test_the_decorator_chain_internals_exist() -> None:
    assert hasattr(StarletteDecorator, "decorate"), "StarletteDecorator.decorate"
    assert isinstance(inspect.getattr_static(StarletteDecorator, "uri_parser"), property), (
        "StarletteDecorator.uri_parser"
    )
    assert "get_request" in dir(StarletteDecorator.framework), "StarletteDecorator.framework"
    parameters = inspect.signature(StarletteDecorator.framework.get_request).parameters
    assert {"uri_parser", "scope", "receive"} <= set(parameters), "framework.get_request(...)"
    assert "fn" in dir(AsyncOperation), "AsyncOperation.fn"
    assert "from_operation" in dir(AsyncOperation), "AsyncOperation.from_operation"
    assert "make_operation" in dir(AsyncApi), "AsyncApi.make_operation"
    assert "api_cls" in dir(AsyncASGIApp), "AsyncASGIApp.api_cls"


def test_the_middleware_layers_the_stack_is_built_from_exist() -> None:
    layers = ConnexionMiddleware.default_middlewares
    for layer in (RoutingMiddleware, SecurityMiddleware, ServerErrorMiddleware):
        assert layer in layers, layer.__name__
    assert ResponseValidationMiddleware in layers
    stack = _connexion.middleware_stack(
        validate_responses=False,
        outermost="outer",
        access="access",
        observer="observer",
        literal_routes="literal",
        in_front="front",
        before_all="all",
    )
    assert stack[:3] == ["outer", "front", "all"]
    assert stack.index(ExceptionMiddleware) < stack.index("literal"), "its errors become problems"
    assert stack.index("literal") + 1 == stack.index(_routing.SwaggerUIOnItsPaths)
    assert stack.index(_lane.BodyLane) + 1 == stack.index(RequestValidationMiddleware)
    assert ResponseValidationMiddleware not in stack
    assert SecurityMiddleware not in stack
    assert stack.index("access") > stack.index(RoutingMiddleware)
    assert stack.index("observer") == stack.index(ServerErrorMiddleware) + 1
    assert SwaggerUIMiddleware in layers
    assert SwaggerUIMiddleware not in stack
    assert stack.index(_routing.SwaggerUIOnItsPaths) < stack.index(RoutingMiddleware)
    assert inspect.signature(SwaggerUIMiddleware.default_fn).parameters.keys() == {
        "self",
        "_scope",
        "receive",
        "send",
    }, "SwaggerUIMiddleware.default_fn (what SwaggerUIOnItsPaths does in its place)"


_HEADER_NAMES = st.sampled_from(["content-type", "Content-Type", "CONTENT-TYPE", "host", "x"])
_HEADER_VALUES = st.text(max_size=20)


@given(
    st.one_of(
        st.lists(
            st.tuples(
                _HEADER_NAMES.map(lambda name: name.encode()) | st.binary(max_size=12),
                _HEADER_VALUES.map(lambda value: value.encode("utf-8")) | st.binary(max_size=20),
            ),
            max_size=6,
        ),
        st.dictionaries(_HEADER_NAMES | st.text(max_size=12), _HEADER_VALUES, max_size=6),
    )
)
def test_the_content_type_is_read_as_connexion_reads_it(headers: Any) -> None:
    assert utils.extract_content_type is _connexion.content_type_of, "the replacement is in place"
    expected = _connexion.CONNEXIONS_CONTENT_TYPE(headers)
    assert _connexion.content_type_of(headers) == expected


def test_the_content_type_reader_replaced_is_connexions() -> None:
    original = _connexion.CONNEXIONS_CONTENT_TYPE
    assert (original.__module__, original.__name__) == ("connexion.utils", "extract_content_type")
    assert list(inspect.signature(original).parameters) == ["headers"]


def test_the_validator_hooks_exist_with_the_signatures_overridden() -> None:
    parse = inspect.signature(JSONRequestBodyValidator._parse).parameters
    assert list(parse) == ["self", "stream", "scope"], "JSONRequestBodyValidator._parse"
    validate = inspect.signature(ParameterValidator.validate_parameter).parameters
    assert list(validate)[:3] == ["parameter_type", "value", "param"], (
        "ParameterValidator.validate_parameter"
    )


def test_the_multipart_hooks_exist_as_the_limited_validator_uses_them() -> None:
    form = inspect.getsource(FormDataValidator._parse)
    assert "self._form_parser_cls(headers, stream)" in form, "FormDataValidator._parse"
    assert isinstance(
        inspect.getattr_static(MultiPartFormDataValidator, "_form_parser_cls"), property
    )
    options = inspect.signature(MultiPartParser).parameters
    assert {"max_files", "max_fields", "max_part_size"} <= set(options), "MultiPartParser(...)"
    # The validator tells Starlette's refusals apart by their words.
    parser = inspect.getsource(MultiPartParser)
    assert "Part exceeded maximum size" in parser, "MultiPartParser's part-size message"
    assert "Too many files" in parser, "MultiPartParser's file-count message"
    assert "Too many fields" in parser, "MultiPartParser's field-count message"


def test_the_uri_parser_keeps_the_body_encoding_the_json_parts_read() -> None:
    """`JsonParts` learns which multipart parts are JSON from the parser's `_body_encoding`,
    and decodes them in `resolve_form`, before Connexion's own decoding."""
    encoding = {"params": {"contentType": "application/json"}}
    parser = OpenAPIURIParser({}, {"encoding": encoding})
    assert parser._body_encoding == encoding, "OpenAPIURIParser._body_encoding"
    assert "resolve_form" in vars(OpenAPIURIParser), "OpenAPIURIParser.resolve_form"
    assert _multipart.JsonParts(parser).resolve_form({"params": ['{"x": 1}']}) == {
        "params": {"x": 1}
    }


@pytest.fixture
def gateway() -> Iterator[tuple[TestClient, str]]:
    """The real gateway on the in-memory backend, API keys on; an admin key for it."""
    settings = Settings(http_auth_mode="api_key", auth_pepper="p")
    backend = MemoryBackend(settings)
    plaintext, record = keys.issue("acme", Role.ADMIN, "p", time.time())
    backend.api_key_bucket.put(f"api_keys.{record.key_id}", _encoded(record))
    with TestClient(create_app(settings, backend)) as client:
        yield client, plaintext


def _encoded(record: Any) -> bytes:
    from pyoco_server.domain.codec import API_KEY

    return API_KEY.encode(record)


def test_the_routing_scope_entry_tells_the_key_check_which_operation_it_is(
    gateway: tuple[TestClient, str],
) -> None:
    client, key = gateway
    assert client.get("/health").status_code == 200  # an operation open to all
    assert client.get("/runs").status_code == 401  # an operation needing a key
    assert client.get("/runs", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/no/such/path").status_code == 404  # no operation: untouched


def test_each_operation_decorates_its_handler_once(
    gateway: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, key = gateway
    calls: list[str] = []
    original = StarletteDecorator.decorate

    def counting(self: StarletteDecorator, function: Any) -> Any:
        calls.append(function.__name__)
        return original(self, function)

    monkeypatch.setattr(StarletteDecorator, "decorate", counting)
    for _ in range(3):
        assert client.get("/workers", headers={"X-API-Key": key}).status_code == 200
    assert calls.count("list_workers") <= 1


def test_the_body_validator_refuses_undecodable_json_with_a_400(
    gateway: tuple[TestClient, str],
) -> None:
    client, key = gateway
    response = client.post(
        "/runs",
        content=b'{"flow_name": "\xff"}',
        headers={"X-API-Key": key, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]


def test_validators_compile_each_schema_once(gateway: tuple[TestClient, str]) -> None:
    """Connexion builds its validators per request; the compiled schemas are kept by the
    schema dicts of the operations, which must be the same dicts on every request."""
    assert "self._validator.validate(" in inspect.getsource(JSONRequestBodyValidator._validate)
    assert "self._validator.validate(" in inspect.getsource(FormDataValidator._validate)
    # _validators.LimitedMultiPartValidator overrides the strict check it makes first
    assert "self._validate_params_strictly(body)" in inspect.getsource(FormDataValidator._validate)
    client, key = gateway
    headers = {"X-API-Key": key}

    def requests() -> None:
        assert client.post("/runs", json={"flow_name": "x"}, headers=headers).status_code == 201
        form = {"flow_name": "main"}
        files = {"workflow": ("flow.yaml", b"flow:\n  graph: a\n")}
        assert client.post("/runs/yaml", data=form, files=files, headers=headers).status_code
        assert client.get("/runs", params={"limit": "2"}, headers=headers).status_code == 200
        assert client.get("/runs/r1", headers=headers).status_code == 404

    requests()
    compiled = (len(_validators.body_validator), len(_validators.parameter_validator))
    assert min(compiled) >= 1
    for _ in range(5):
        requests()
    assert (len(_validators.body_validator), len(_validators.parameter_validator)) == compiled


def test_the_parameter_validator_names_the_parameter(gateway: tuple[TestClient, str]) -> None:
    client, key = gateway
    response = client.get("/runs", params={"limit": "0"}, headers={"X-API-Key": key})
    assert response.status_code == 400
    assert "'limit'" in response.json()["detail"]


def test_responses_are_written_by_the_fast_jsonifier(gateway: tuple[TestClient, str]) -> None:
    client, key = gateway
    response = client.get("/runs", headers={"X-API-Key": key})
    assert response.content == b'{"items":[],"next_cursor":null}\n'


HEADER_NAMES = st.sampled_from([b"idempotency-key", b"last-event-id", b"x-other", b"host"])


@given(
    headers=st.lists(
        st.tuples(HEADER_NAMES, st.binary(max_size=12).filter(lambda v: b"\r" not in v)),
        max_size=6,
    ),
    client=st.one_of(st.none(), st.tuples(st.sampled_from(["", "10.0.0.1"]), st.just(5))),
)
def test_the_scope_and_headers_read_as_connexions_request_reads_them(
    headers: list[tuple[bytes, bytes]], client: tuple[str, int] | None
) -> None:
    """`current_header` and `current_scope` answer as `connexion.request` does: the first
    value of a header, undecodable bytes as latin-1, the client's address."""
    asgi_scope = {"type": "http", "headers": headers, "client": client}
    scope_token, receive_token = _scope.set(asgi_scope), _receive.set(None)  # type: ignore[arg-type]
    try:
        for name in (b"idempotency-key", b"last-event-id", b"absent"):
            assert _connexion.current_header(name) == request.headers.get(name.decode())
        assert _connexion.current_scope() is asgi_scope
        starlettes = request.client
        ours = _connexion.current_scope().get("client")
        assert (ours[0] if ours else None) == (starlettes.host if starlettes else None)
    finally:
        _scope.reset(scope_token)
        _receive.reset(receive_token)


def test_no_scope_outside_a_request() -> None:
    with pytest.raises(RuntimeError):
        _connexion.current_scope()
