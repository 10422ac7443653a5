"""The straight-line code codec.py's wire formats run: each record's `to_dict` and `from_dict`.

Generated once per record from its fields (`Field`: how each converts, what is left out, what
stands in for a missing one), so that a record converts as fast as hand-written code would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pyoco_server.domain.copies import slot_setters

R = TypeVar("R")
Convert = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a record and how it goes to and from its payload."""

    name: str
    encode: Convert
    decode: Convert
    omit_none: bool
    omit_default: bool
    default: Any
    fallback: Callable[[Mapping[str, Any]], Any] | None


def compile_to_dict(fields: list[Field]) -> Callable[[Any], dict[str, Any]]:
    """`to_dict` as straight-line code (built once): as fast as a hand-written one.

    Snapshots are encoded several times per run on the worker's hot path; a loop over the
    fields costs twice as much.
    """
    env: dict[str, Any] = {}
    literal, optional = [], []
    for i, field in enumerate(fields):
        get = f"record.{field.name}"
        value = "v" if field.encode is identity else f"_enc{i}(v)"
        env[f"_enc{i}"], env[f"_def{i}"] = field.encode, field.default
        if field.omit_none or field.omit_default:
            keep = ["v is not None"] + ([f"v != _def{i}"] if field.omit_default else [])
            optional.append(f"    v = {get}\n    if {' and '.join(keep)}:\n")
            optional.append(f"        data[{field.name!r}] = {value}\n")
        elif field.encode is identity:
            literal.append(f"{field.name!r}: {get}")
        else:
            literal.append(f"{field.name!r}: None if (v := {get}) is None else {value}")
    source = "def to_dict(record):\n    data = {" + ", ".join(literal) + "}\n"
    source += "".join(optional) + "    return data\n"
    exec(source, env)
    return env["to_dict"]  # type: ignore[no-any-return]


def compile_from_dict(record: type[R], fields: list[Field]) -> Callable[[Mapping[str, Any]], R]:
    """`from_dict` as straight-line code (built once), like `compile_to_dict`.

    A record that can be built field by field through its slots (`copies.slot_setters`) is,
    instead of through `__init__` with a dict of keyword arguments: a snapshot decodes at
    about half the cost.
    """
    setters = slot_setters(record)
    if setters is None:
        return _compile_from_dict_by_init(record, fields)
    declared = {field.name: field for field in dataclasses.fields(record)}  # type: ignore[arg-type]
    env: dict[str, Any] = {"_new": object.__new__, "_record": record}
    lines = ["def from_dict(data):", "    new = _new(_record)"]
    for i, field in enumerate(fields):
        env[f"_dec{i}"], env[f"_fallback{i}"] = field.decode, field.fallback
        env[f"_set{i}"] = setters[field.name]
        value = "v" if field.decode is identity else f"None if v is None else _dec{i}(v)"
        lines.append(f"    if {field.name!r} in data:")
        lines.append(f"        v = data[{field.name!r}]")
        lines.append(f"        _set{i}(new, {value})")
        lines.append("    else:")
        lines.append(f"        _set{i}(new, {_absent(declared[field.name], field, i, env)})")
    lines.append("    return new")
    exec("\n".join(lines) + "\n", env)
    return env["from_dict"]  # type: ignore[no-any-return]


def _absent(declared: dataclasses.Field[Any], field: Field, i: int, env: dict[str, Any]) -> str:
    """The expression for the value of a field missing from the payload, as `__init__` has it."""
    if field.fallback is not None:
        return f"_fallback{i}(data)"
    if declared.default_factory is not dataclasses.MISSING:
        env[f"_factory{i}"] = declared.default_factory
        return f"_factory{i}()"
    if declared.default is not dataclasses.MISSING:
        env[f"_default{i}"] = declared.default
        return f"_default{i}"
    env[f"_required{i}"] = _required(declared.name)
    return f"_required{i}()"


def _required(name: str) -> Callable[[], Any]:
    def required() -> Any:
        raise TypeError(f"the payload has no {name!r}, which has no default")

    return required


def _compile_from_dict_by_init(
    record: type[R], fields: list[Field]
) -> Callable[[Mapping[str, Any]], R]:
    env: dict[str, Any] = {"_record": record}
    lines = ["def from_dict(data):", "    values = {}"]
    for i, field in enumerate(fields):
        env[f"_dec{i}"], env[f"_fallback{i}"] = field.decode, field.fallback
        value = "v" if field.decode is identity else f"None if v is None else _dec{i}(v)"
        lines.append(f"    if {field.name!r} in data:")
        lines.append(f"        v = data[{field.name!r}]")
        lines.append(f"        values[{field.name!r}] = {value}")
        if field.fallback is not None:
            lines.append("    else:")
            lines.append(f"        values[{field.name!r}] = _fallback{i}(data)")
    lines.append("    return _record(**values)")
    exec("\n".join(lines) + "\n", env)
    return env["from_dict"]  # type: ignore[no-any-return]


def identity(value: Any) -> Any:
    """A field kept as it is (no conversion)."""
    return value
