"""Run-time validation of NATS payloads against asyncapi.yaml, compiled once per process.

jsonschema-rs validates a typical job in well under a microsecond, so every message is checked
when it is published and when it is consumed.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema_rs

from pyoco_server.contracts._specs import message_names, message_payload_schema, openapi_schema

_MAX_REPORTED = 5


class SchemaViolation(ValueError):
    """A value breaks its schema; the message names the offending fields."""


@functools.cache
def _validators() -> dict[str, Any]:
    return {
        name: jsonschema_rs.validator_for(message_payload_schema(name), validate_formats=True)
        for name in message_names()
    }


@functools.cache
def _openapi_validator(schema_name: str) -> Any:
    return jsonschema_rs.validator_for(openapi_schema(schema_name), validate_formats=True)


def validate_openapi_schema(schema_name: str, value: object) -> None:
    """Check `value` against schema `schema_name` of openapi.yaml's components.

    For values that arrive as text inside a request, such as a multipart field holding JSON.

    Raises:
        SchemaViolation: `value` breaks the schema.
    """
    _check(_openapi_validator(schema_name), value)


def validate_payload(message_name: str, payload: object) -> None:
    """Check `payload` against message `message_name` of asyncapi.yaml.

    Raises:
        SchemaViolation: the payload breaks the schema; the message names the offending fields.
    """
    _check(_validators()[message_name], payload)


def _check(validator: Any, value: object) -> None:
    if validator.is_valid(value):
        return
    problems = [
        f"{'/'.join(str(part) for part in error.instance_path) or '(root)'}: {error.message}"
        for _, error in zip(range(_MAX_REPORTED), validator.iter_errors(value), strict=False)
    ]
    raise SchemaViolation("; ".join(problems))


def compile_all() -> list[str]:
    """Compile every message validator now (at start-up); returns the message names."""
    return sorted(_validators())
