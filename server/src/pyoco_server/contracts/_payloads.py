"""Run-time validation of NATS payloads against asyncapi.yaml, compiled once per process.

jsonschema-rs validates a typical job in well under a microsecond, so every message is checked
when it is published and when it is consumed.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema_rs

from pyoco_server.contracts._specs import message_names, message_payload_schema
from pyoco_server.errors import ContractError

_MAX_REPORTED = 5


@functools.cache
def _validators() -> dict[str, Any]:
    return {
        name: jsonschema_rs.validator_for(message_payload_schema(name), validate_formats=True)
        for name in message_names()
    }


def validate_payload(message_name: str, payload: object) -> None:
    """Check `payload` against message `message_name` of asyncapi.yaml.

    Raises:
        ContractError: the payload breaks the schema; `detail` names the offending fields.
    """
    validator = _validators()[message_name]
    if validator.is_valid(payload):
        return
    problems = [
        f"{'/'.join(str(part) for part in error.instance_path) or '(root)'}: {error.message}"
        for _, error in zip(range(_MAX_REPORTED), validator.iter_errors(payload), strict=False)
    ]
    raise ContractError(message_name, "; ".join(problems))


def compile_all() -> list[str]:
    """Compile every message validator now (at start-up); returns the message names."""
    return sorted(_validators())
