"""Loading the contracts (openapi.yaml, asyncapi.yaml) that ship inside this package.

The repository root links to these files; they are the source of truth. AsyncAPI message payloads
are turned into self-contained JSON Schemas: every `$ref` (inside asyncapi.yaml or into
openapi.yaml) is inlined and OpenAPI 3.0's `nullable` is rewritten as JSON Schema's `null` type.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

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
    """The payload schema of message `name`, dereferenced into one JSON Schema document."""
    message = load_document(ASYNCAPI_PATH)["components"]["messages"][name]
    schema: dict[str, Any] = _inline(message["payload"], ASYNCAPI_PATH, depth=0)
    return schema


def openapi_schema(name: str) -> dict[str, Any]:
    """Schema `name` of openapi.yaml's components, dereferenced into one JSON Schema document."""
    inlined: dict[str, Any] = _inline(
        load_document(OPENAPI_PATH)["components"]["schemas"][name], OPENAPI_PATH, depth=0
    )
    return inlined


def _inline(node: Any, base: Path, depth: int) -> Any:
    if isinstance(node, list):
        return [_inline(item, base, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target, target_base = _resolve(node["$ref"], base)
        if depth >= _MAX_REF_DEPTH:
            raise ValueError(f"$ref nesting deeper than {_MAX_REF_DEPTH} at {node['$ref']}")
        return _inline(target, target_base, depth + 1)
    inlined = {key: _inline(value, base, depth) for key, value in node.items()}
    return _as_json_schema(inlined)


def _resolve(ref: str, base: Path) -> tuple[Any, Path]:
    file_part, _, pointer = ref.partition("#")
    path = (base.parent / file_part).resolve() if file_part else base
    node: Any = load_document(path)
    for token in filter(None, pointer.split("/")):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node, path


def _as_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite OpenAPI 3.0's keywords that JSON Schema (draft 7) spells differently."""
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = schema.get(bound)
        if flag is True:  # OpenAPI 3.0: a flag on `minimum`; draft 7: the bound itself
            schema[bound] = schema.pop(limit)
        elif flag is False:
            del schema[bound]
    return _without_nullable(schema)


def _without_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite OpenAPI 3.0 `nullable: true` as JSON Schema (a `null` type and enum member)."""
    if not schema.pop("nullable", False):
        return schema
    if "type" not in schema and "enum" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = [*kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema
