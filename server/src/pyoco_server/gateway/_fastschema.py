"""Request bodies checked by jsonschema-rs first, and by Connexion's validator whenever it refuses.

Connexion validates a body with Python jsonschema's Draft 4 validator, extended for OpenAPI's
`nullable` (which only ever accepts more): a tenth of a submit's gateway CPU. jsonschema-rs,
already used for asyncapi.yaml's payloads, decides the same in a few microseconds. `RustFirst`
accepts what jsonschema-rs finds valid; anything else (invalid, null where `nullable` allows it,
or a value jsonschema-rs cannot take, such as a lone surrogate) goes to Connexion's validator,
which accepts it or raises the error clients have always seen.

Connexion hands each validator the body's schema, its references already resolved, with the
spec's `components` added in case one is left. jsonschema-rs gets the schema without them; a
schema that still refers elsewhere, or refers to itself, is left to Connexion alone.

So it can only be wrong by accepting what Connexion refuses: tests/server/test_fast_schema.py
generates bodies from every request schema of openapi.yaml, as Connexion hands it over, valid
and beyond their bounds, and checks that jsonschema-rs never accepts one that Connexion refuses.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs


class RustFirst:
    """A Connexion request validator, asked only about what jsonschema-rs does not accept."""

    def __init__(self, schema: dict[str, Any], connexion: Any) -> None:
        self._connexion = connexion
        own = {key: value for key, value in schema.items() if key != "components"}
        self._rust = jsonschema_rs.Draft4Validator(own) if _self_contained(own) else None

    def validate(self, instance: Any) -> None:
        """Return if `instance` is valid; raise Connexion's `ValidationError` if not."""
        try:
            if self._rust is not None and self._rust.is_valid(instance):
                return
        except (ValueError, TypeError, OverflowError):  # a value jsonschema-rs cannot take
            pass
        self._connexion.validate(instance)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connexion, name)


def _self_contained(schema: Any, within: tuple[int, ...] = ()) -> bool:
    """Whether `schema` holds no `$ref` and does not contain itself."""
    if isinstance(schema, dict | list):
        if id(schema) in within:
            return False
        items = schema.items() if isinstance(schema, dict) else enumerate(schema)
        inner = (*within, id(schema))
        return all(key != "$ref" and _self_contained(value, inner) for key, value in items)
    return True
