"""Generate the end of asyncapi.yaml: the openapi.yaml schemas its messages use, as JSON Schema.

asyncapi.yaml is written by hand down to `MARKER`; below it, this module writes every schema of
openapi.yaml that the hand-written part references (`#/components/schemas/<name>` where no
hand-written schema has that name), and everything those reference in turn, converted to plain
JSON Schema by `to_json_schema`. The file then stands alone in AsyncAPI's default schema format,
which the official parser and any JSON Schema validator accept.

    python -m pyoco_server.contracts._asyncgen           rewrite the generated part
    python -m pyoco_server.contracts._asyncgen --check   exit 1 if it is out of date
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

import yaml

from pyoco_server.contracts._jsonschema import OPENAPI_COMPONENT, component_refs, to_json_schema
from pyoco_server.contracts._specs import ASYNCAPI_PATH, OPENAPI_PATH

MARKER = (
    "    # ---- generated from openapi.yaml by `uv run nox -s generate`; do not edit below ----\n"
)
_INDENT = " " * 4  # the depth of `components.schemas` entries


class GenerationError(ValueError):
    """The hand-written part cannot be completed (a missing schema or a name clash)."""


def hand_written_part(text: str) -> str:
    """asyncapi.yaml's text above the generation marker (all of it when there is no marker)."""
    head, found, _ = text.partition(MARKER)
    if not found:
        return text if text.endswith("\n") else text + "\n"
    return head


def needed_schemas(asyncapi: dict[str, Any], openapi: dict[str, Any]) -> list[str]:
    """openapi.yaml's schemas the hand-written asyncapi document uses, transitively, sorted.

    Raises:
        GenerationError: a reference names no schema, or a schema openapi.yaml's schemas need
            has the name of a hand-written one (it would be shadowed).
    """
    own = set(asyncapi["components"]["schemas"])
    available = openapi["components"]["schemas"]
    pending = component_refs(asyncapi) - own
    needed: set[str] = set()
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        if name not in available:
            raise GenerationError(
                f"asyncapi.yaml references #/components/schemas/{name}, which "
                "neither asyncapi.yaml nor openapi.yaml defines"
            )
        needed.add(name)
        pending |= component_refs(available[name])
    clashes = sorted(needed & own)
    if clashes:
        raise GenerationError(
            f"openapi.yaml's schemas {clashes} are needed by asyncapi.yaml but a hand-written "
            "asyncapi schema has the same name; rename the hand-written one"
        )
    return sorted(needed)


def render(asyncapi_text: str, openapi: dict[str, Any]) -> str:
    """The whole new asyncapi.yaml: the hand-written part, the marker, the generated schemas."""
    hand = hand_written_part(asyncapi_text)
    document = yaml.safe_load(hand)
    if list(document)[-1] != "components" or list(document["components"])[-1] != "schemas":
        raise GenerationError("asyncapi.yaml must end with components.schemas (generated below)")
    schemas = openapi["components"]["schemas"]
    generated = {
        name: to_json_schema(schemas[name], _local_ref)
        for name in needed_schemas(document, openapi)
    }
    body = yaml.dump(generated, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=96)
    indented = "".join(_INDENT + line if line.strip() else line for line in body.splitlines(True))
    return hand + MARKER + indented


def _local_ref(ref: str) -> str:
    if not ref.startswith(OPENAPI_COMPONENT):
        raise GenerationError(f"openapi.yaml schema reference {ref!r} is not a component schema")
    return ref


class _Dumper(yaml.SafeDumper):
    """Block mappings, flow lists of scalars, multi-line strings as literal blocks (`|`)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent list items under their key


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    scalars = all(not isinstance(item, dict | list) for item in value)  # `[a, b]`, as by hand
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=scalars)


_Dumper.add_representer(str, _string)
_Dumper.add_representer(list, _list)


def main(argv: list[str] | None = None) -> int:
    """Rewrite asyncapi.yaml's generated part, or with `--check` report whether it is stale."""
    check = "--check" in (sys.argv[1:] if argv is None else argv)
    current = ASYNCAPI_PATH.read_text(encoding="utf-8")
    fresh = render(current, yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8")))
    if fresh == current:
        return 0
    if check:
        sys.stderr.writelines(
            difflib.unified_diff(
                current.splitlines(True), fresh.splitlines(True), "asyncapi.yaml", "generated"
            )
        )
        sys.stderr.write("asyncapi.yaml is out of date; run `uv run nox -s generate`\n")
        return 1
    Path(ASYNCAPI_PATH).write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
