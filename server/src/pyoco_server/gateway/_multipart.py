"""Multipart forms parsed once, with their JSON parts decoded by the gateway (gateway/_connexion.py).

Connexion's multipart validator parses the body, then the handler's request would parse it
again; the validator (`_validators.LimitedMultiPartValidator`) leaves its parse in the scope
(`PARSED_FORM`) for the handler. `JsonParts` decodes the parts that openapi.yaml encodes as
`application/json` (`params`, `retry`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyoco_server.gateway import forms

PARSED_FORM = "pyoco.parsed_form"
"""Scope key under which the multipart validator leaves the form it parsed for the handler."""

RESOLVED_FORM = "pyoco.resolved_form"
"""Scope key under which the multipart validator leaves the form fields it resolved (the fields
as given, and as resolved), so that the handler's arguments need not resolve them again."""

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

    def resolve_form(self, form_data: dict[str, Any]) -> dict[str, Any]:
        """The form's values, with the JSON parts decoded (and blank ones left out)."""
        decoded: dict[str, Any] = {}
        for name in self._names:
            values = form_data.pop(name, None)
            raw = values[-1] if isinstance(values, list) and values else values
            if isinstance(raw, str):
                value = forms.json_object(raw, name, '{"x": 2}')
                if raw.strip():
                    decoded[name] = value
        resolved: dict[str, Any] = {**self._parser.resolve_form(form_data), **decoded}
        return resolved

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)
