"""Loading the contracts (openapi.yaml, asyncapi.yaml) that ship inside this package.

The repository root links to these files; they are the source of truth. asyncapi.yaml is
self-contained plain JSON Schema (its openapi.yaml schemas are generated into it by `_asyncgen`),
so a message's payload schema only has its `$ref`s inlined. openapi.yaml's schemas are OpenAPI
3.0, converted to JSON Schema by `_jsonschema.to_json_schema` before they are used.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

from pyoco_server.contracts._jsonschema import to_json_schema

SPEC_DIR = Path(__file__).resolve().parent
OPENAPI_PATH = SPEC_DIR / "openapi.yaml"
ASYNCAPI_PATH = SPEC_DIR / "asyncapi.yaml"

_MAX_REF_DEPTH = 32


@functools.cache
def load_document(path: Path) -> dict[str, Any]:
    """Parse a YAML contract once per process. Callers must not mutate the result."""
    with path.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return document


def load_openapi() -> dict[str, Any]:
    """A private copy of openapi.yaml as a dict (callers may change it)."""
    return copy.deepcopy(load_document(OPENAPI_PATH))


def load_asyncapi() -> dict[str, Any]:
    """A private copy of asyncapi.yaml as a dict."""
    return copy.deepcopy(load_document(ASYNCAPI_PATH))


def channel_addresses() -> dict[str, str]:
    """Channel id to NATS address template, for example `work: pyoco.work.{tag}`."""
    channels = load_document(ASYNCAPI_PATH)["channels"]
    return {name: str(channel["address"]) for name, channel in channels.items()}


def message_names() -> list[str]:
    """Names of the JSON messages declared under `components.messages` of asyncapi.yaml.

    (A message of another content type, such as the flow.yaml texts, is stored as it came.)
    """
    document = load_document(ASYNCAPI_PATH)
    default = document.get("defaultContentType", "application/json")
    return sorted(
        name
        for name, message in document["components"]["messages"].items()
        if message.get("contentType", default) == "application/json"
    )


def message_payload_schema(name: str) -> dict[str, Any]:
    """The payload schema of message `name`, its local `$ref`s inlined into one JSON Schema.

    asyncapi.yaml is plain JSON Schema already (its openapi.yaml part is generated converted), so
    nothing is rewritten.
    """
    document = load_document(ASYNCAPI_PATH)
    message = document["components"]["messages"][name]
    schema: dict[str, Any] = _inline(message["payload"], document, depth=0)
    return schema


def openapi_schema(name: str) -> dict[str, Any]:
    """Schema `name` of openapi.yaml's components as JSON Schema, its `$ref`s inlined."""
    document = _openapi_as_json_schema()
    schema: dict[str, Any] = _inline(document["components"]["schemas"][name], document, depth=0)
    return schema


@functools.cache
def _openapi_as_json_schema() -> dict[str, Any]:
    schemas = load_document(OPENAPI_PATH)["components"]["schemas"]
    converted = {name: to_json_schema(schema) for name, schema in schemas.items()}
    return {"components": {"schemas": converted}}


def _inline(node: Any, document: dict[str, Any], depth: int) -> Any:
    if isinstance(node, list):
        return [_inline(item, document, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        if depth >= _MAX_REF_DEPTH:
            raise ValueError(f"$ref nesting deeper than {_MAX_REF_DEPTH} at {node['$ref']}")
        return _inline(_resolve(node["$ref"], document), document, depth + 1)
    return {key: _inline(value, document, depth) for key, value in node.items()}


def _resolve(ref: str, document: dict[str, Any]) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"{ref!r}: only references inside the same document are allowed")
    node: Any = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node
