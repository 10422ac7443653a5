"""Deterministic conversion of task values to JSON.

Task outputs and inputs are stored in run snapshots, which are JSON. A value JSON cannot carry is
converted the same way every time (never a memory address) and the caller marks it converted:

- tuples become lists (not counted as a conversion);
- sets and frozensets become lists sorted by their JSON text;
- dict keys that are not strings become their `str()`, suffixed with the type name when that
  text is already a key;
- bytes become base64 text; NaN and infinities become their names ("NaN", "Infinity");
- enums become their value, dataclasses a dict of their fields, dates ISO 8601 text;
- anything else becomes its `repr()` with ` at 0x...` addresses removed, as does a value nested
  deeper than a run's params may be (`MAX_NESTING` levels of arrays and objects).

A converted value whose JSON is larger than a whole run snapshot may hold is replaced by a note
saying so (`bounded`): stored, it would make the snapshot drop every task's record to fit, and
sent whole it cost the worker its size in memory (a 300 MiB output failed its run as a broken
protocol, over the largest message a run process may send).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import json
import math
import re
from pathlib import PurePath
from typing import Any

from pyoco_server.domain.codec import MAX_NESTING, dumps

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_MAX_DEPTH = MAX_NESTING


def to_json(value: Any) -> tuple[Any, bool]:
    """`(json_value, converted)`: the value as plain JSON, and whether it had to be converted."""
    state = _State()
    result = _convert(value, state, 0)
    return result, state.converted


MAX_VALUE_BYTES = 262_144
"""The default of `bounded`'s limit: PYOCO_MAX_RUN_SNAPSHOT_BYTES's."""

_KINDS = {str: "text", list: "an array", dict: "an object"}


def bounded(value: Any, converted: bool, max_bytes: int) -> tuple[Any, bool]:
    """`(value, converted)` from `to_json`, or a note in the value's place past `max_bytes`.

    The note replaces a value whose JSON takes more than `max_bytes`, and counts as converted.
    Numbers and short text are not measured; long text is measured in characters (each takes a
    byte or more), anything else by encoding it.
    """
    kind = type(value)
    if kind is str:
        if len(value) * 6 <= max_bytes:  # a character takes at most 6 bytes of JSON
            return value, converted
        size = len(value)
        if size > max_bytes:
            return _note(f"text of {size} characters", max_bytes), True
    elif kind is not list and kind is not dict:
        return value, converted
    size = len(dumps(value))
    if size <= max_bytes:
        return value, converted
    return _note(f"{_KINDS[kind]} of {size} bytes as JSON", max_bytes), True


def _note(what: str, max_bytes: int) -> str:
    return (
        f"<{what}: more than the {max_bytes} bytes a task's record may hold "
        "(PYOCO_MAX_RUN_SNAPSHOT_BYTES); not kept>"
    )


class _State:
    __slots__ = ("converted",)

    def __init__(self) -> None:
        self.converted = False


def _convert(value: Any, state: _State, depth: int) -> Any:
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        state.converted = True
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if depth >= _MAX_DEPTH:
        state.converted = True
        return _text(value)
    if isinstance(value, dict):
        return _convert_dict(value, state, depth)
    if isinstance(value, (list, tuple)):
        return [_convert(item, state, depth + 1) for item in value]
    state.converted = True
    return _convert_other(value, state, depth)


def _convert_dict(value: dict[Any, Any], state: _State, depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str:
            state.converted = True
            key = _key_text(key, value, result)
        result[key] = _convert(item, state, depth + 1)
    return result


def _key_text(key: Any, source: dict[Any, Any], taken: dict[str, Any]) -> str:
    """A text key for a non-text one, qualified by its type when the plain text is taken."""
    text = str(key.value) if isinstance(key, enum.Enum) else str(key)
    return f"{text} ({type(key).__name__})" if text in source or text in taken else text


def _convert_other(value: Any, state: _State, depth: int) -> Any:
    if isinstance(value, enum.Enum):
        return _convert(value.value, state, depth + 1)
    if isinstance(value, (str, int)):  # subclasses of str and int that are not enums
        return str(value) if isinstance(value, str) else int(value)
    if isinstance(value, (set, frozenset)):
        items = [_convert(item, state, depth + 1) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
        return _convert_dict(fields, state, depth)
    return _text(value)


def _text(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not fail the run
        text = f"<{type(value).__qualname__}>"
    return _ADDRESS.sub("", text)
