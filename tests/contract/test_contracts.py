"""The code and the contracts agree: handlers and operations, subjects and channels, schemas."""

from __future__ import annotations

import inspect

import jsonschema
import pytest

from pyoco_server.contracts import (
    SchemaViolation,
    channel_addresses,
    load_asyncapi,
    load_openapi,
    message_names,
    message_payload_schema,
    validate_payload,
)
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.subjects import Subjects
from pyoco_server.gateway.app import handlers_for
from pyoco_server.gateway.metrics import GatewayMetrics
from pyoco_server.gateway.runview import RunView
from pyoco_server.jetstream import NatsBackend

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def operations_by_tag() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path_item in load_openapi()["paths"].values():
        for method, operation in path_item.items():
            if method in HTTP_METHODS:
                (tag,) = operation["tags"]
                found.setdefault(tag, set()).add(operation["operationId"])
    return found


def handler_methods(handler: object) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(handler, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }


def test_every_operation_has_a_handler_and_every_handler_an_operation() -> None:
    backend = NatsBackend(Settings(), "contract-test")  # never started: no NATS needed
    handlers = handlers_for(backend, RunView(backend), GatewayMetrics())
    operations = operations_by_tag()
    assert set(handlers) == set(operations)
    for tag, handler in handlers.items():
        assert handler_methods(handler) == operations[tag], tag


def test_every_subject_the_code_uses_is_an_asyncapi_channel() -> None:
    channels = channel_addresses()
    for channel_id, template in Subjects.from_settings(Settings()).templates().items():
        assert channels.get(channel_id) == template, channel_id


def test_every_asyncapi_operation_uses_a_declared_channel() -> None:
    document = load_asyncapi()
    for name, operation in document["operations"].items():
        ref = operation["channel"]["$ref"]
        assert ref.removeprefix("#/channels/") in document["channels"], name


@pytest.mark.parametrize("name", message_names())
def test_every_message_schema_is_a_valid_json_schema(name: str) -> None:
    schema = message_payload_schema(name)
    jsonschema.Draft7Validator.check_schema(schema)
    assert "$ref" not in str(schema), "payload schemas are fully dereferenced"


def test_shared_schemas_come_from_openapi() -> None:
    snapshot = load_asyncapi()["components"]["messages"]["RunSnapshot"]["payload"]
    assert snapshot == {"$ref": "#/components/schemas/RunSnapshot"}
    status = message_payload_schema("RunSnapshot")["properties"]["status"]
    assert status["enum"] == load_openapi()["components"]["schemas"]["RunStatus"]["enum"]


def test_nullable_openapi_fields_accept_null_in_payloads() -> None:
    snapshot = {
        "run_id": "r1",
        "flow_name": "main",
        "tag": "default",
        "tags": [],
        "status": "PENDING",
        "params": {},
        "tasks": {},
        "updated_at": 1.0,
        "start_time": None,
        "error": None,
    }
    validate_payload("RunSnapshot", snapshot)
    with pytest.raises(SchemaViolation, match="status"):
        validate_payload("RunSnapshot", {**snapshot, "status": "DONE"})
