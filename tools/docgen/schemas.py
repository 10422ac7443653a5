"""JSON Schema (OpenAPI's and AsyncAPI's) as short Markdown: a type in words, a property table."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def cell(text: str) -> str:
    """`text` fit for one cell of a Markdown table (one line, pipes escaped)."""
    return " ".join(text.split()).replace("|", "\\|")


def type_of(schema: Schema, anchor: str) -> str:
    """The type of `schema` in a few words; a named schema links to `#<anchor>-<name>`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{anchor}-{name.lower()})"
    for combiner, word in (("allOf", " and "), ("oneOf", " or "), ("anyOf", " or ")):
        if combiner in schema:
            text = word.join(type_of(part, anchor) for part in schema[combiner])
            return _nullable(text, schema)
    if "enum" in schema:
        return " / ".join(f"`{value}`" for value in schema["enum"] if value is not None)
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    words = [_one(schema, name, anchor) for name in kinds if name != "null"]
    text = " or ".join(words) or "null"
    return text + (" or null" if "null" in kinds and words else "")


def _one(schema: Schema, kind: str, anchor: str) -> str:
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}), anchor)}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {type_of(schema['additionalProperties'], anchor)}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def _nullable(text: str, schema: Schema) -> str:
    return text + (" or null" if schema.get("nullable") else "")


def properties(schema: Schema, anchor: str) -> list[str]:
    """A table of an object schema's properties (or nothing), then its other parts."""
    lines: list[str] = []
    props = schema.get("properties", {})
    if props:
        required = set(schema.get("required", []))
        lines += ["| field | type | required | description |", "|---|---|---|---|"]
        for name, prop in props.items():
            mark = "yes" if name in required else ""
            text = cell(prop.get("description", ""))
            lines.append(f"| `{name}` | {type_of(prop, anchor)} | {mark} | {text} |")
        lines.append("")
    return lines


def section(name: str, schema: Schema, anchor: str) -> list[str]:
    """One named schema: a heading with a stable anchor, its description, its fields."""
    lines = [f"### {name} {{#{anchor}-{name.lower()}}}", ""]
    if description := schema.get("description"):
        lines += [description.strip(), ""]
    if "properties" not in schema:
        lines += [
            f"Type: {type_of({k: v for k, v in schema.items() if k != 'description'}, anchor)}",
            "",
        ]
    if known := schema.get("x-extensible-enum"):
        lines += ["Known values: " + ", ".join(f"`{value}`" for value in known) + ".", ""]
    return lines + properties(schema, anchor)
