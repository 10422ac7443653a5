"""Every example in openapi.yaml is valid against its schema (a standard JSON Schema validator).

Generated docs, mock servers and schemathesis' examples phase all use the examples, so a stale
one misleads. Schemas are turned into JSON Schema by `contracts.openapi_schema`; an inline media
schema's `$ref`s are inlined the same way. An event stream's example is also checked through
its variant's `x-data-schema`: its `data`, decoded, must fit the schema named there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft7Validator, ValidationError

from pyoco_server.contracts import load_openapi, openapi_schema

_SCHEMAS = "#/components/schemas/"
_METHODS = {"get", "put", "post", "delete", "patch"}
SPEC = load_openapi()


def json_schema(schema: Any) -> Any:
    """An inline media schema as JSON Schema: its `$ref`s to component schemas inlined.

    (Inline media schemas here are plain: a string, or an array of a component.)
    """
    if isinstance(schema, list):
        return [json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_SCHEMAS):
        return openapi_schema(ref.removeprefix(_SCHEMAS))
    return {key: json_schema(value) for key, value in schema.items() if key != "example"}


def check(example: Any, schema: dict[str, Any]) -> None:
    """Raise `ValidationError` when `example` does not fit `schema` (an OpenAPI schema)."""
    resolved = json_schema(schema)
    Draft7Validator(resolved, format_checker=Draft7Validator.FORMAT_CHECKER).validate(example)
    if isinstance(example, dict) and "oneOf" in resolved and "data" in example:
        check_event_data(example, schema)


def check_event_data(event: dict[str, Any], schema: dict[str, Any]) -> None:
    """An event's decoded `data` fits the `x-data-schema` of the variant its `event` names."""
    stream = SPEC["components"]["schemas"][schema["$ref"].removeprefix(_SCHEMAS)]
    variant_ref = stream["discriminator"]["mapping"][event["event"]]
    variant = SPEC["components"]["schemas"][variant_ref.removeprefix(_SCHEMAS)]
    data_schema = variant["properties"]["data"]["x-data-schema"]
    check(json.loads(event["data"]), {"$ref": data_schema})


def media_examples() -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """(where, example, schema) for every example of a request or response body."""
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            body = operation.get("requestBody", {})
            for media, content in body.get("content", {}).items():
                yield from _of(f"{method.upper()} {path} request {media}", content)
            for status, response in operation["responses"].items():
                for media, content in response.get("content", {}).items():
                    yield from _of(f"{method.upper()} {path} {status} {media}", content)
    for name, response in SPEC["components"]["responses"].items():
        for media, content in response.get("content", {}).items():
            yield from _of(f"components.responses.{name} {media}", content)


def _of(where: str, content: dict[str, Any]) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    if "example" in content:
        yield where, content["example"], content["schema"]
    for name, example in content.get("examples", {}).items():
        yield f"{where} ({name})", example["value"], content["schema"]


def schema_examples() -> Iterator[tuple[str, Any, Any]]:
    """(where, example, JSON Schema) for every `example` inside a component schema or header."""
    for name, schema in SPEC["components"]["schemas"].items():
        for steps, example in _nested(schema, ()):
            yield ".".join(("components.schemas", name, *steps)), example, (name, steps)
    for name, header in SPEC["components"]["headers"].items():
        if "example" in header:
            yield f"components.headers.{name}", header["example"], header["schema"]


def _nested(schema: Any, steps: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(steps to a subschema, its example) for every example in `schema`."""
    if not isinstance(schema, dict):
        return
    if "example" in schema:
        yield steps, schema["example"]
    for prop, sub in schema.get("properties", {}).items():
        yield from _nested(sub, (*steps, "properties", prop))
    for key in ("items", "additionalProperties"):
        yield from _nested(schema.get(key), (*steps, key))


def subschema(name: str, steps: tuple[str, ...]) -> dict[str, Any]:
    """The part of component `name` (as JSON Schema) that `steps` lead to."""
    node: dict[str, Any] = openapi_schema(name)
    for step in steps:
        node = node[step]
    return node


MEDIA = list(media_examples())
NESTED = list(schema_examples())


def test_every_body_has_an_example() -> None:
    bodies = set()
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = list(operation["responses"].items())
            if "requestBody" in operation:
                responses.append(("request", operation["requestBody"]))
            for status, response in responses:
                for media in response.get("content", {}):
                    if "$ref" not in response:
                        bodies.add(f"{method.upper()} {path} {status} {media}")
    bodies |= {
        f"components.responses.{name} {media}"
        for name, response in SPEC["components"]["responses"].items()
        for media in response.get("content", {})
    }
    described = {where.split(" (")[0] for where, _, _ in MEDIA}
    missing = bodies - described
    assert not missing, f"bodies without an example: {sorted(missing)}"


@pytest.mark.parametrize(("where", "example", "schema"), MEDIA, ids=[m[0] for m in MEDIA])
def test_body_examples_fit_their_schema(where: str, example: Any, schema: dict[str, Any]) -> None:
    check(example, schema)


@pytest.mark.parametrize(("where", "example", "schema"), NESTED, ids=[n[0] for n in NESTED])
def test_schema_examples_fit_their_schema(where: str, example: Any, schema: Any) -> None:
    resolved = subschema(*schema) if isinstance(schema, tuple) else json_schema(schema)
    Draft7Validator(resolved, format_checker=Draft7Validator.FORMAT_CHECKER).validate(example)


def test_every_event_data_schema_names_a_component() -> None:
    for name, schema in SPEC["components"]["schemas"].items():
        data = schema.get("properties", {}).get("data", {})
        if "x-data-schema" in data:
            target = data["x-data-schema"].removeprefix(_SCHEMAS)
            assert target in SPEC["components"]["schemas"], f"{name}: {data['x-data-schema']}"


@pytest.mark.parametrize(
    ("example", "schema"),
    [
        ({"status": "down"}, {"$ref": "#/components/schemas/Health"}),
        ({"items": [{"worker_id": "w1"}], "next_cursor": None}, {"$ref": _SCHEMAS + "WorkerPage"}),
        ({"event": "snapshot", "data": '{"run_id": "r1"}'}, {"$ref": _SCHEMAS + "RunEvent"}),
        ({"event": "log", "data": "{}", "id": "x"}, {"$ref": _SCHEMAS + "LogEvent"}),
    ],
)
def test_a_wrong_example_is_caught(example: Any, schema: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        check(example, schema)
