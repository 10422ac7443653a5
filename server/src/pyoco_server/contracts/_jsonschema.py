"""OpenAPI 3.0 schema objects turned into plain JSON Schema (draft 7), the one place this is done.

openapi.yaml stays OpenAPI 3.0.3 (Connexion loads nothing newer), whose schema dialect differs from
JSON Schema in a few keywords. asyncapi.yaml's generated schemas and `openapi_schema` (the HTTP
bodies the tests check) both go through `to_json_schema`:

- `nullable: true` becomes a `null` member of `type` (and of `enum`), or `anyOf [.., null]` when
  the schema has neither or is composed (a `$ref`, an `allOf`);
- boolean `exclusiveMinimum`/`exclusiveMaximum` (flags on `minimum`/`maximum`) become the numeric
  bounds of draft 7;
- `example` becomes `examples: [example]`;
- every `$ref` is passed through `rewrite_ref` (for example into another document's components).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OPENAPI_COMPONENT = "#/components/schemas/"

_BOUNDS = (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum"))
_COMPOSED = frozenset({"allOf", "anyOf", "oneOf", "$ref"})


def to_json_schema(node: Any, rewrite_ref: Callable[[str], str] = str) -> Any:
    """A converted copy of OpenAPI 3.0 schema `node` (the input is left as it is)."""
    if isinstance(node, list):
        return [to_json_schema(item, rewrite_ref) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            converted[key] = rewrite_ref(value)
        elif key in ("properties", "patternProperties", "definitions"):
            converted[key] = {name: to_json_schema(sub, rewrite_ref) for name, sub in value.items()}
        elif key in ("enum", "const", "default", "example", "examples"):
            converted[key] = value  # values, not schemas
        else:
            converted[key] = to_json_schema(value, rewrite_ref)
    return _with_null(_with_examples(_with_numeric_bounds(converted)))


def component_refs(node: Any) -> set[str]:
    """Names of the `#/components/schemas/<name>` references anywhere in `node`."""
    if isinstance(node, list):
        return set().union(*(component_refs(item) for item in node))
    if not isinstance(node, dict):
        return set()
    found = {
        value.removeprefix(OPENAPI_COMPONENT)
        for key, value in node.items()
        if key == "$ref" and isinstance(value, str) and value.startswith(OPENAPI_COMPONENT)
    }
    return found.union(*(component_refs(value) for value in node.values()))


def _with_numeric_bounds(schema: dict[str, Any]) -> dict[str, Any]:
    for bound, limit in _BOUNDS:
        flag = schema.get(bound)
        if flag is True:  # OpenAPI 3.0: a flag on `minimum`; draft 7: the bound itself
            schema[bound] = schema.pop(limit)
        elif flag is False:
            del schema[bound]
    return schema


def _with_examples(schema: dict[str, Any]) -> dict[str, Any]:
    if "example" in schema:
        schema["examples"] = [schema.pop("example")]
    return schema


def _with_null(schema: dict[str, Any]) -> dict[str, Any]:
    if not schema.pop("nullable", False):
        return schema
    if ("type" not in schema and "enum" not in schema) or _COMPOSED.intersection(schema):
        # The composed schemas would refuse null themselves (`type: object` beside an `allOf`).
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = [*kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema
