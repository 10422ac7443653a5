"""Fields of the multipart submit (`POST /runs/yaml`) that carry JSON or numbers as text.

The JSON parts (`params`, `retry`) reach the handler decoded (`_multipart.JsonParts` decodes
them with `json_object` before Connexion validates them against their schemas); text is still
taken, for a caller that bypasses that layer.
"""

from __future__ import annotations

from typing import Any

from pyoco_server.contracts import SchemaViolation, validate_openapi_schema
from pyoco_server.domain.codec import loads, retry_from_dict
from pyoco_server.domain.errors import InvalidInput, InvalidLabels, InvalidRequirement
from pyoco_server.domain.records import RetryPolicy

_MAX_TIMEOUT_SEC = 604800
_MAX_LABELS = 64
_MAX_LABEL_CHARS = 128


def json_object(raw: str | dict[str, Any] | None, field: str, example: str) -> dict[str, Any]:
    """A form field holding a JSON object ({} when absent or blank), or the object decoded."""
    if isinstance(raw, dict):
        return raw
    if raw is None or not raw.strip():
        return {}
    try:
        value = loads(raw, unicode_only=True)
    except ValueError as exc:
        raise InvalidInput(f"form field {field!r} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"form field {field!r} must be a JSON object such as {example}")
    return value


def params(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """The `params` field."""
    return json_object(raw, "params", '{"x": 2}')


def retry(raw: str | dict[str, Any] | None) -> RetryPolicy | None:
    """The `retry` field: a retry policy as JSON text."""
    data = json_object(raw, "retry", '{"max_attempts": 3}')
    if not data:
        return None
    try:
        validate_openapi_schema("RetryPolicy", data)
    except SchemaViolation as exc:
        raise InvalidInput(f"form field 'retry' is not a retry policy: {exc}") from None
    return retry_from_dict(data)


def requirements(raw: str | None) -> tuple[str, ...]:
    """The `requires` field: pinned wheel versions, comma-separated."""
    if not raw:
        return ()
    pins = tuple(item.strip() for item in raw.split(",") if item.strip())
    bad = [pin for pin in pins if "==" not in pin]
    if bad:
        raise InvalidRequirement(
            f"form field 'requires': {', '.join(bad)} must pin a version, like my_ext==0.1.0"
        )
    return pins


def labels(raw: str | None) -> tuple[str, ...]:
    """The `tags` field: labels, comma-separated (as `tags` of the JSON submit)."""
    if not raw:
        return ()
    found = tuple(item.strip() for item in raw.split(",") if item.strip())
    if len(found) > _MAX_LABELS:
        raise InvalidLabels(f"form field 'tags' has {len(found)} labels; at most {_MAX_LABELS}")
    long = [label for label in found if len(label) > _MAX_LABEL_CHARS]
    if long:
        raise InvalidLabels(
            f"form field 'tags': label {long[0][:20]!r}... is over {_MAX_LABEL_CHARS} characters; "
            "separate labels with commas"
        )
    return found


def seconds(raw: Any, field: str) -> float | None:
    """A field holding a number of seconds (> 0, at most a week)."""
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InvalidInput(f"form field {field!r} must be a number of seconds") from None
    if not 0 < value <= _MAX_TIMEOUT_SEC:
        raise InvalidInput(
            f"form field {field!r} must be more than 0 and at most {_MAX_TIMEOUT_SEC}"
        )
    return value
