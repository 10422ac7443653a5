"""Multipart forms parsed and resolved once, their JSON parts decoded by the gateway.

Connexion's multipart validator parses the body, then the handler's request would parse it
again; the validator (`_validators.LimitedMultiPartValidator`) leaves its parse in the scope
(`PARSED_FORM`) for the handler, with the fields it resolved (`RESOLVED_FORM`), from which the
handler's arguments are made (`form_arguments`, called by gateway/_connexion.py). `JsonParts`
decodes the parts that openapi.yaml encodes as `application/json` (`params`, `retry`), and
resolves the plain string fields without Connexion's casts (`plain_fields`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from connexion.decorators.parameter import _get_file_arguments, _get_typed_body_values
from connexion.utils import TYPE_MAP, is_nullable
from starlette.datastructures import UploadFile
from starlette.types import Scope

from pyoco_server.gateway import forms

PARSED_FORM = "pyoco.parsed_form"
"""Scope key under which the multipart validator leaves the form it parsed for the handler: its
fields and files by name, in order (`FormData(items)` makes the form of them)."""

RESOLVED_FORM = "pyoco.resolved_form"
"""Scope key under which the multipart validator leaves the form's fields as it resolved them,
and its files by name when the handler's request would split the form alike (else None), so that
the handler's arguments need not split and resolve it again (`form_arguments`)."""

PARSED_BODY = "pyoco.parsed_body"
"""Scope key under which the JSON body validator leaves the body it parsed (only a request whose
body then validates reaches the handler)."""


class JsonParts:
    """A URI parser whose `resolve_form` decodes the parts encoded as `application/json`.

    Connexion would `json.loads` them itself: a blank part or bad JSON became a 500, and the
    decoded value was then cast leaf by leaf (`1.5` to `1` for an integer). Here a blank part
    counts as absent, bad JSON or a non-object is a 400 `invalid_input`, and the decoded object
    is validated against the part's schema as it is.
    """

    def __init__(self, parser: Any) -> None:
        self._parser = parser
        encoding: Mapping[str, Any] = parser._body_encoding  # checked by a guard test
        self._names = [
            name
            for name, spec in encoding.items()
            if str(spec.get("contentType", "")).split(";")[0].strip() == "application/json"
        ]
        self._plain = plain_fields(parser._body_schema, encoding)

    def resolve_form(self, form_data: dict[str, Any]) -> dict[str, Any]:
        """The form's values, with the JSON parts decoded (and blank ones left out).

        A plain field (`plain_fields`) resolves to its value, or its values joined by commas,
        as Connexion's `resolve_form` resolves it; any other is resolved by Connexion's.
        """
        decoded = self.json_parts(form_data)
        plain = self._plain
        resolved: dict[str, Any] = {}
        for name, values in form_data.items():
            if name in plain:
                resolved[name] = values[0] if len(values) == 1 else ",".join(values)
            else:
                resolved[name] = self._parser.resolve_form({name: values})[name]
        resolved.update(decoded)
        return resolved

    def json_parts(self, form_data: dict[str, Any]) -> dict[str, Any]:
        """The JSON parts, taken out of `form_data` and decoded (blank ones left out)."""
        decoded: dict[str, Any] = {}
        for name in self._names:
            values = form_data.pop(name, None)
            raw = values[-1] if isinstance(values, list) and values else values
            if isinstance(raw, str):
                value = forms.json_object(raw, name, '{"x": 2}')
                if raw.strip():
                    decoded[name] = value
        return decoded

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


def plain_fields(schema: Mapping[str, Any] | None, encoding: Mapping[str, Any]) -> frozenset[str]:
    """The form's properties that Connexion's `OpenAPIURIParser.resolve_form` passes through.

    For each field it joins the values with the encoding style's delimiter when `explode` is on
    (the default of the `form` style), decodes JSON or splits arrays, then casts the value by
    the property's type (`coerce_type`), turning "null" into None when it is nullable. A string
    property encoded in the default style, with no content type, is left as joined; it is
    resolved here without the work (`tests/server/test_form_resolve.py` compares both).
    """
    if schema is None or schema.get("type") != "object":
        return frozenset()  # Connexion leaves every field as its list of values
    plain = set()
    for name, spec in schema.get("properties", {}).items():
        style = encoding.get(name, {"style": "form"})
        if (
            set(style) <= {"style", "explode"}
            and style.get("style", "form") == "form"
            and style.get("explode", True) is True
            and "schema" not in spec
            and spec.get("type") == "string"
            and not is_nullable(spec)
        ):
            plain.add(name)
    return frozenset(plain)


FormBody = tuple[dict[str, Any], Any, Any, Any, dict[str, Callable[[Any], Any]]]
"""What `form_body_definition` reads of a multipart operation."""


def form_arguments(
    asgi_scope: Scope, definition: FormBody, uri_parser: Any, arguments: list[str]
) -> dict[str, Any]:
    """The handler's `body` and file arguments, as Connexion's parameter decorator makes them.

    The form (`PARSED_FORM`) is split as `ConnexionRequest._split_form_files` splits it and its
    fields resolved, unless the validator left them so (`RESOLVED_FORM`); then the arguments are
    made as `get_arguments` makes them for a handler with no path or query parameters, from the
    operation's body `definition` (`form_body_definition`).
    """
    resolved: dict[str, Any]
    resolved, files = asgi_scope.get(RESOLVED_FORM) or ({}, None)
    if files is None:
        fields: dict[str, list[Any]] = {}
        files = {}
        for name, value in asgi_scope[PARSED_FORM]:
            split = files if isinstance(value, UploadFile) else fields
            values = split.get(name)
            if values is None:
                split[name] = [value]
            else:
                values.append(value)
        resolved = uri_parser.resolve_form(fields)
    body_schema, default, properties, additional, casts = definition
    body = copy.deepcopy(default) if default else {}
    body.update(resolved)
    if body.keys() <= casts.keys():
        typed = {name: casts[name](value) for name, value in body.items()}
    elif properties or additional:
        typed = _get_typed_body_values(body, properties, additional)
    else:
        typed = {}
    return {"body": typed, **_get_file_arguments(files, arguments, body_schema, False)}


def form_body_definition(spec_operation: Any) -> FormBody:
    """What Connexion's `_get_body_argument_form` reads of a multipart operation, read once.

    It depends on the operation alone: the body schema, its default, its properties as
    parameter definitions, whether other properties are allowed, and the casts of the values
    of the properties whose cast is one call (`casts`).
    """
    known = spec_operation.__dict__.get(_FORM_BODY_DEFINITION)
    if known is None:
        schema = spec_operation.body_schema(_MULTIPART)
        properties = {name: {"schema": spec} for name, spec in schema.get("properties", {}).items()}
        additional = spec_operation.body_schema().get("additionalProperties", True)
        known = (schema, schema.get("default", {}), properties, additional, casts(properties))
        spec_operation.__dict__[_FORM_BODY_DEFINITION] = known
    return known  # type: ignore[no-any-return]


def casts(properties: Mapping[str, Any]) -> dict[str, Callable[[Any], Any]]:
    """The casts of the properties that Connexion's `_get_val_from_param` casts in one call.

    That is a call of `TYPE_MAP` by the property's type, for a property that is not nullable,
    not an array, and of a type `TYPE_MAP` knows.
    `tests/server/test_form_resolve.py` compares the casts with `_get_typed_body_values`.
    """
    found = {}
    for name, definition in properties.items():
        spec = definition.get("schema", definition)
        kind = spec.get("type")
        if is_nullable(spec) or kind is None or kind == "array":
            continue
        if kind == "string" and spec.get("format") == "binary":
            kind = "file"
        cast = TYPE_MAP.get(kind) if isinstance(kind, str) else None
        if cast is not None:
            found[name] = cast
    return found


_MULTIPART = "multipart/form-data"
_FORM_BODY_DEFINITION = "_pyoco_form_body_definition"
