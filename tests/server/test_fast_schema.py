"""jsonschema-rs never accepts a request body that Connexion's validator refuses (_fastschema.py).

`RustFirst` accepts what jsonschema-rs finds valid without asking Connexion, so for every request
body schema of openapi.yaml (as Connexion resolves it), bodies generated from the schema, near
its bounds and beyond them, with junk in any field, must never be valid to jsonschema-rs and
invalid to Connexion. The other way round is allowed: Connexion then decides.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, ValidationError

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from connexion.json_schema import Draft4RequestValidator
    from connexion.spec import Specification

from pyoco_server.gateway._fastschema import RustFirst

SPEC = Specification.load(Path(__file__).parents[2] / "openapi.yaml")

BODIES = {  # as Connexion hands them to validators: with the spec's components
    f"{method.upper()} {path} {content_type}": {**media["schema"], "components": SPEC.components}
    for path, methods in SPEC["paths"].items()
    for method, operation in methods.items()
    if isinstance(operation, dict) and "requestBody" in operation
    for content_type, media in operation["requestBody"]["content"].items()
}

ODD_TEXT = st.sampled_from(
    ["", " ", "\n", "main\n", "a" * 201, "\x00", "\x1f", " x", "\x7f", "é", "\U0001f600", "\ud800"]
)
junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=8)
    | ODD_TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def near(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of `schema`'s type around what it allows, and junk now and then."""
    return st.one_of(_typed(schema), junk) if schema.get("type") else junk


def _typed(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = schema["type"]
    if kind == "object":
        properties = schema.get("properties", {})
        if not properties:
            return st.dictionaries(st.text(max_size=4), junk, max_size=3)
        required = [name for name in schema.get("required", []) if name in properties]
        optional = {name: near(sub) for name, sub in properties.items() if name not in required}
        complete = st.fixed_dictionaries(
            {name: near(properties[name]) for name in required}, optional=optional
        )
        partial = st.fixed_dictionaries(
            {}, optional={**{name: near(sub) for name, sub in properties.items()}, "unknown": junk}
        )
        return st.one_of(complete, complete, partial)
    if kind == "array":
        top = schema.get("maxItems", 4) + 2
        return st.lists(near(schema.get("items", {})), max_size=min(top, 70))
    if kind == "string":
        shaped = (
            st.from_regex(schema["pattern"], fullmatch=True)
            if "pattern" in schema
            else st.text(max_size=schema.get("maxLength", 8) + 2)
        )
        return st.one_of(shaped, ODD_TEXT, st.text(max_size=3))
    if kind in ("number", "integer"):
        low, high = schema.get("minimum", -10), schema.get("maximum", 10)
        edges = [low, high, low - 1, high + 1, 0, -0.0]
        edges += [math.nextafter(low, -math.inf), math.nextafter(high, math.inf)]
        numbers = st.integers(min_value=int(low) - 2, max_value=int(high) + 2)
        if kind == "number":
            numbers = numbers | st.floats(min_value=low - 1, max_value=high + 1)
        return st.one_of(numbers, st.sampled_from(edges), st.sampled_from([math.nan, math.inf]))
    if kind == "boolean":
        return st.booleans()
    return junk


def connexions(schema: dict[str, Any]) -> Any:
    return Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("operation", sorted(BODIES))
def test_jsonschema_rs_accepts_nothing_connexion_refuses(operation: str) -> None:
    schema = BODIES[operation]
    connexion = connexions(schema)
    rust = RustFirst(schema, connexion)._rust
    assert rust is not None, "the schema is left to Connexion: nothing to compare"
    seen = {True: 0, False: 0}

    @settings(
        max_examples=600,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(near(schema))
    def check(body: Any) -> None:
        try:
            accepted = bool(rust.is_valid(body))
        except (ValueError, TypeError, OverflowError):
            accepted = False
        if accepted:
            assert connexion.is_valid(body), f"jsonschema-rs accepts {body!r}, Connexion refuses"
        seen[connexion.is_valid(body)] += 1

    check()
    assert seen[True], f"no body was valid: {seen}"
    assert seen[False], f"no body was invalid: {seen}"


def test_what_jsonschema_rs_refuses_connexion_decides() -> None:
    schema = BODIES["POST /runs application/json"]
    validator = RustFirst(schema, connexions(schema))
    validator.validate({"flow_name": "main", "params": {"x": 1}, "timeout_sec": 1.5})
    with pytest.raises(ValidationError, match="is not of type 'string'"):
        validator.validate({"flow_name": 3})  # Connexion's error, as clients always saw it
    # jsonschema-rs cannot take a lone surrogate; Connexion accepts it, or says what is wrong.
    validator.validate({"flow_name": "\ud800"})
    with pytest.raises(ValidationError, match="does not match"):
        validator.validate({"flow_name": "\ud800", "tag": "a tag"})


def test_a_schema_that_refers_elsewhere_or_to_itself_is_left_to_connexion() -> None:
    looped: dict[str, Any] = {"type": "object", "properties": {}}
    looped["properties"]["next"] = looped
    referring = {"type": "object", "properties": {"x": {"$ref": "#/components/schemas/X"}}}
    for schema in (looped, referring):
        assert RustFirst(schema, connexions({"type": "object"}))._rust is None


def test_null_where_the_schema_is_nullable_is_connexions_to_accept() -> None:
    schema = {"type": "object", "properties": {"note": {"type": "string", "nullable": True}}}
    validator = RustFirst(schema, connexions(schema))
    assert not validator._rust.is_valid({"note": None})
    validator.validate({"note": None})
