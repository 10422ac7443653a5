"""The generation of asyncapi.yaml's openapi part, and the one OpenAPI-to-JSON-Schema conversion."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from pyoco_server.contracts._asyncgen import MARKER, GenerationError, needed_schemas, render
from pyoco_server.contracts._jsonschema import to_json_schema

OPENAPI: dict[str, Any] = {
    "components": {
        "schemas": {
            "Run": {
                "type": "object",
                "properties": {
                    "id": {"$ref": "#/components/schemas/RunId"},
                    "stop": {"allOf": [{"$ref": "#/components/schemas/Stop"}], "nullable": True},
                },
            },
            "RunId": {"type": "string", "example": "r1"},
            "Stop": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            "Unused": {"type": "string"},
            "Note": {"type": "string"},
        }
    }
}

HAND = """\
asyncapi: 3.0.0
components:
  messages:
    Run:
      payload:
        $ref: "#/components/schemas/Run"
  schemas:
    Note:
      # hand-written, with a comment kept as it is
      type: object
"""


def test_conversion_of_openapi_keywords() -> None:
    assert to_json_schema({"type": "string", "nullable": True, "enum": ["a"]}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    assert to_json_schema({"$ref": "#/x", "nullable": True}) == {
        "anyOf": [{"$ref": "#/x"}, {"type": "null"}]
    }
    assert to_json_schema({"type": "number", "maximum": 5, "exclusiveMaximum": True}) == {
        "type": "number",
        "exclusiveMaximum": 5,
    }
    assert to_json_schema({"type": "integer", "example": 3}) == {"type": "integer", "examples": [3]}
    properties = {"properties": {"nullable": {"type": "boolean"}}}  # a property, not the keyword
    assert to_json_schema(properties) == properties


def test_only_the_schemas_used_transitively_are_generated_after_the_marker() -> None:
    text = render(HAND, OPENAPI)
    head, _, generated = text.partition(MARKER)
    assert head == HAND
    schemas = yaml.safe_load(text)["components"]["schemas"]
    assert list(schemas) == ["Note", "Run", "RunId", "Stop"]
    assert generated.startswith("    Run:\n")
    assert schemas["Stop"] == {"type": "number", "exclusiveMinimum": 0}
    assert schemas["Run"]["properties"]["stop"]["anyOf"][1] == {"type": "null"}
    assert render(text, OPENAPI) == text, "regenerating is a fixed point"


def test_a_hand_written_name_needed_from_openapi_is_a_clash() -> None:
    openapi = yaml.safe_load(yaml.safe_dump(OPENAPI))
    openapi["components"]["schemas"]["RunId"] = {"$ref": "#/components/schemas/Note"}
    with pytest.raises(GenerationError, match="Note"):
        render(HAND, openapi)


def test_a_reference_to_nothing_fails() -> None:
    document = {
        "components": {"schemas": {}, "messages": {"M": {"$ref": "#/components/schemas/X"}}}
    }
    with pytest.raises(GenerationError, match="X"):
        needed_schemas(document, OPENAPI)
