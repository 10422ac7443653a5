"""`JsonParts.resolve_form` resolves a form's fields as Connexion's `resolve_form` does, and the
handler's arguments are typed as Connexion types them (`_multipart.casts`).

It resolves the plain fields (`_multipart.plain_fields`: strings in the default encoding)
itself and hands every other field to Connexion's `OpenAPIURIParser.resolve_form`. Here the
way it resolved them before, the JSON parts decoded and every other field left to Connexion,
runs on the same generated forms: both must give the same values in the same order, or fail
with the same error.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import pytest
from connexion.decorators.parameter import _get_typed_body_values
from connexion.json_schema import resolve_refs
from connexion.uri_parsing import OpenAPIURIParser
from hypothesis import given, settings
from hypothesis import strategies as st

from pyoco_server.contracts._specs import load_openapi
from pyoco_server.gateway._multipart import JsonParts, casts, plain_fields

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "bounded": {"type": "string", "maxLength": 3, "pattern": "^a"},
        "nullable": {"type": "string", "nullable": True},
        "spaced": {"type": "string"},
        "unexploded": {"type": "string"},
        "typed": {"type": "string"},
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "flag": {"type": "boolean"},
        "texts": {"type": "array", "items": {"type": "string"}},
        "object": {"type": "object"},
        "params": {"type": "object"},
        "file": {"type": "string", "format": "binary"},
    },
}
ENCODING: dict[str, Any] = {
    "params": {"contentType": "application/json"},
    "spaced": {"style": "spaceDelimited"},
    "unexploded": {"style": "form", "explode": False},
    "typed": {"contentType": "text/plain"},
}
NAMES = [*SCHEMA["properties"], "other"]
TEXTS = st.one_of(
    st.sampled_from(["", " ", "null", "None", "1", "1.5", "true", "a,b", '{"x": 1}', "[1]"]),
    st.text(max_size=6),
)


def before(parser: OpenAPIURIParser, form_data: dict[str, Any]) -> dict[str, Any]:
    """`JsonParts.resolve_form` as it was: JSON parts decoded, the rest left to Connexion."""
    decoded = JsonParts(parser).json_parts(form_data)
    return {**parser.resolve_form(form_data), **decoded}


def outcome(resolve: Any, form_data: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "resolved", list(resolve(form_data).items())
    except Exception as exc:  # compared by type and words
        return "failed", (type(exc), str(exc))


def both(parser: OpenAPIURIParser, fields: dict[str, list[str]]) -> None:
    ours = outcome(JsonParts(parser).resolve_form, copy.deepcopy(fields))
    theirs = outcome(lambda form: before(parser, form), copy.deepcopy(fields))
    assert ours == theirs


@settings(max_examples=400, deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(NAMES), st.lists(TEXTS, min_size=1, max_size=3), max_size=8
    )
)
def test_generated_fields_resolve_alike(fields: dict[str, list[str]]) -> None:
    """Every kind of property and encoding, one value or several, known names or not."""
    both(OpenAPIURIParser({}, {"schema": SCHEMA, "encoding": ENCODING}), fields)


def test_only_strings_in_the_default_encoding_are_plain() -> None:
    assert plain_fields(SCHEMA, ENCODING) == {"text", "bounded", "file"}
    assert plain_fields({"type": "array"}, {}) == frozenset()
    assert plain_fields(None, {}) == frozenset()


@functools.cache
def submit_run_yaml_parser() -> OpenAPIURIParser:
    """The URI parser of `POST /runs/yaml`'s body, its schema resolved as Connexion does."""
    spec = resolve_refs(load_openapi())
    body = spec["paths"]["/runs/yaml"]["post"]["requestBody"]["content"]["multipart/form-data"]
    return OpenAPIURIParser({}, body)


def test_the_submit_forms_plain_fields() -> None:
    parser = submit_run_yaml_parser()
    assert JsonParts(parser)._plain == {"workflow", "flow_name", "tag", "tags", "requires"}


@settings(max_examples=300, deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            ["workflow", "flow_name", "tag", "params", "tags", "timeout_sec", "retry", "requires"]
        ),
        st.lists(TEXTS, min_size=1, max_size=2),
        max_size=8,
    )
)
def test_the_submit_forms_fields_resolve_alike(fields: dict[str, list[str]]) -> None:
    both(submit_run_yaml_parser(), fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"flow_name": ["main"], "params": ['{"x": 1}'], "timeout_sec": ["600"]},
        {"flow_name": ["a", "b"], "tags": ["x", "y"], "timeout_sec": ["soon"]},
        {"flow_name": ["main"], "params": ["[1]"]},
        {"flow_name": ["main"], "retry": ["{bad"]},
    ],
)
def test_submit_forms_resolve_alike(fields: dict[str, list[str]]) -> None:
    """A valid form, duplicates, a bad number, a JSON part that is no object, bad JSON."""
    both(submit_run_yaml_parser(), fields)


VALUES = st.one_of(
    TEXTS,
    st.integers(),
    st.floats(allow_nan=False),
    st.none(),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.lists(st.text(max_size=2), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(body=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=8))
def test_the_casts_type_values_as_connexion_types_them(body: dict[str, Any]) -> None:
    """Where a property has a cast, it gives what `_get_typed_body_values` gives, or fails alike."""
    properties = {name: {"schema": spec} for name, spec in SCHEMA["properties"].items()}
    found = casts(properties)
    assert set(found) == {"text", "bounded", "spaced", "unexploded", "typed", "count", "ratio"} | {
        "flag",
        "object",
        "params",
        "file",
    }
    kept = {name: value for name, value in body.items() if name in found}
    ours = outcome(lambda kept: {name: found[name](value) for name, value in kept.items()}, kept)
    theirs = outcome(lambda kept: _get_typed_body_values(kept, properties, False), kept)
    assert ours == theirs
