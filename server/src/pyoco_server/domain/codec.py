"""Bytes to records and back: the only place payloads are (de)serialised.

Every record of asyncapi.yaml has one `WireFormat`, declared at the bottom of this module: the
dataclass, its message name, and which fields are left out when empty. How each field converts
(enums to their values, tuples to lists, nested records) follows from the dataclass's type hints,
so adding a field to a record is one edit there. Every encode and decode validates against
asyncapi.yaml; a decode failure raises `DecodeError`, which keeps the raw bytes so that the caller
can dead-letter them.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import orjson

from pyoco_server.contracts import SchemaViolation, validate_payload
from pyoco_server.domain.errors import ContractError, DecodeError, PayloadTooLarge
from pyoco_server.domain.records import (
    ApiKey,
    CancelNotice,
    CodeVersion,
    DeadLetter,
    IdempotencyRecord,
    Job,
    LogRecord,
    MaxDeliveriesAdvisory,
    RetryPolicy,
    SkippedWheel,
    WheelHistoryEvent,
    WheelIndexRecord,
    WheelState,
    WheelVersion,
    WorkerRecord,
)
from pyoco_server.domain.snapshot import AttemptRecord, RunSnapshot, RunStopping, TaskRecord

R = TypeVar("R")
Convert = Callable[[Any], Any]


def dumps(value: object) -> bytes:
    """Compact UTF-8 JSON, the wire format of every payload.

    orjson: about fifteen times faster than the standard library on a snapshot, which matters
    on the worker's and the gateway's hot paths. It cannot write integers beyond 64 bits; those
    rare values go through the standard library, so JSON's arbitrary integers stay exact.
    Callers keep NaN and infinities out (orjson would write them as null); see `check_finite`.
    """
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()


def loads(raw: bytes | str) -> Any:
    """Strict JSON: UTF-8 only, no NaN or Infinity; integers stay exact, whatever their size.

    Bytes are read by orjson, about four times faster than the standard library on a snapshot,
    unless they hold a run of 19 digits or more (orjson reads integers beyond 64 bits as
    floats) or orjson refuses them. The standard library reads everything else, and says why
    what it refuses is refused. Either way the result is the standard library's: orjson refuses
    what the standard library accepts in only three ways (a lone surrogate escape, a number
    beyond the float range, nesting deeper than 1,024), and then the standard library decides
    (tests/server/test_codec_loads.py checks both agree).

    Raises:
        ValueError: the text is not such JSON.
    """
    if isinstance(raw, (bytes, bytearray)) and _LONG_DIGITS not in raw.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return _loads_exactly(raw)


_DIGITS_ONLY = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
"""A `bytes.translate` table turning every digit into `0` and every other byte into a blank."""
_LONG_DIGITS = b"0" * 19
"""19 digits in a row: a number that may be beyond 64 bits (2**63 has 19 digits)."""


def _loads_exactly(raw: bytes | bytearray | str) -> Any:
    """`loads` by the standard library alone."""
    text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def check_finite(value: object) -> None:
    """Raise ValueError if `value` (plain JSON data) holds NaN or an infinity."""
    json.dumps(value, allow_nan=False)


def validate(message_name: str, payload: object) -> None:
    """Check `payload` against message `message_name` of asyncapi.yaml (`ContractError`)."""
    try:
        validate_payload(message_name, payload)
    except SchemaViolation as exc:
        raise ContractError(message_name, str(exc)) from None


class WireFormat(Generic[R]):
    """How one record maps to and from its asyncapi.yaml payload.

    Args:
        record: the frozen dataclass.
        message: its message name in asyncapi.yaml.
        omit_none: fields left out of the payload when None (True: every field).
        omit_default: fields left out when equal to their default.
        fallbacks: for a field missing from a payload, how to derive it from the payload.
    """

    def __init__(
        self,
        record: type[R],
        message: str,
        *,
        omit_none: bool | frozenset[str] = frozenset(),
        omit_default: frozenset[str] = frozenset(),
        fallbacks: Mapping[str, Callable[[Mapping[str, Any]], Any]] | None = None,
    ) -> None:
        self.record = record
        self.message = message
        hints = typing.get_type_hints(record)
        names = [field.name for field in dataclasses.fields(record)]  # type: ignore[arg-type]
        fields = [
            _Field(
                name,
                *_converters(hints[name]),
                omit_none=omit_none is True or name in (omit_none or ()),
                omit_default=name in omit_default,
                default=_default(record, name),
                fallback=(fallbacks or {}).get(name),
            )
            for name in names
        ]
        self.to_dict: Callable[[R], dict[str, Any]] = _compile_to_dict(fields)
        """The payload of a record (not validated)."""
        self.from_dict: Callable[[Mapping[str, Any]], R] = _compile_from_dict(record, fields)
        """The record of an (already validated) payload; unknown keys are ignored."""

    def encode(self, record: R) -> bytes:
        """Validate and serialise `record`."""
        data = self.to_dict(record)
        validate(self.message, data)
        return dumps(data)

    def decode(self, raw: bytes) -> R:
        """Parse and validate a payload (`DecodeError`, keeping `raw`, when it is not valid)."""
        try:
            value = loads(raw)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            raise DecodeError(self.message, f"not UTF-8 JSON: {exc}", raw) from None
        try:
            validate(self.message, value)
        except ContractError as exc:
            raise DecodeError(self.message, exc.detail, raw) from None
        return self.from_dict(value)


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    encode: Convert
    decode: Convert
    omit_none: bool
    omit_default: bool
    default: Any
    fallback: Callable[[Mapping[str, Any]], Any] | None


def _default(record: type[Any], name: str) -> Any:
    field = next(field for field in dataclasses.fields(record) if field.name == name)
    return None if field.default is dataclasses.MISSING else field.default


def _compile_to_dict(fields: list[_Field]) -> Callable[[Any], dict[str, Any]]:
    """`to_dict` as straight-line code (built once): as fast as a hand-written one.

    Snapshots are encoded several times per run on the worker's hot path; a loop over the
    fields costs twice as much.
    """
    env: dict[str, Any] = {}
    literal, optional = [], []
    for i, field in enumerate(fields):
        get = f"record.{field.name}"
        value = "v" if field.encode is _identity else f"_enc{i}(v)"
        env[f"_enc{i}"], env[f"_def{i}"] = field.encode, field.default
        if field.omit_none or field.omit_default:
            keep = ["v is not None"] + ([f"v != _def{i}"] if field.omit_default else [])
            optional.append(f"    v = {get}\n    if {' and '.join(keep)}:\n")
            optional.append(f"        data[{field.name!r}] = {value}\n")
        elif field.encode is _identity:
            literal.append(f"{field.name!r}: {get}")
        else:
            literal.append(f"{field.name!r}: None if (v := {get}) is None else {value}")
    source = "def to_dict(record):\n    data = {" + ", ".join(literal) + "}\n"
    source += "".join(optional) + "    return data\n"
    exec(source, env)
    return env["to_dict"]  # type: ignore[no-any-return]


def _compile_from_dict(record: type[R], fields: list[_Field]) -> Callable[[Mapping[str, Any]], R]:
    """`from_dict` as straight-line code (built once), like `_compile_to_dict`."""
    env: dict[str, Any] = {"_record": record}
    lines = ["def from_dict(data):", "    values = {}"]
    for i, field in enumerate(fields):
        env[f"_dec{i}"], env[f"_fallback{i}"] = field.decode, field.fallback
        value = "v" if field.decode is _identity else f"None if v is None else _dec{i}(v)"
        lines.append(f"    if {field.name!r} in data:")
        lines.append(f"        v = data[{field.name!r}]")
        lines.append(f"        values[{field.name!r}] = {value}")
        if field.fallback is not None:
            lines.append("    else:")
            lines.append(f"        values[{field.name!r}] = _fallback{i}(data)")
    lines.append("    return _record(**values)")
    exec("\n".join(lines) + "\n", env)
    return env["from_dict"]  # type: ignore[no-any-return]


def _identity(value: Any) -> Any:
    return value


def _converters(hint: Any) -> tuple[Convert, Convert]:
    """(encode, decode) for a field of type `hint`; None values never reach them."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        return _converters(present[0]) if len(present) == 1 else (_identity, _identity)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return (lambda value: value.value), hint
    if origin is tuple:
        encode_item, decode_item = _converters(args[0])
        return (
            (lambda value: [encode_item(item) for item in value]),
            (lambda value: tuple(decode_item(item) for item in value)),
        )
    if origin in (Mapping, dict, typing.Mapping):
        encode_item, decode_item = _converters(args[1])
        if encode_item is _identity:
            return dict, dict
        return (
            (lambda value: {key: encode_item(item) for key, item in value.items()}),
            (lambda value: {key: decode_item(item) for key, item in value.items()}),
        )
    nested = _NESTED.get(hint)
    if nested is not None:
        return nested.to_dict, nested.from_dict
    return _identity, _identity


# Records that appear only inside others: every field written, as stored before.
_NESTED: dict[Any, WireFormat[Any]] = {}
for _record in (RetryPolicy, TaskRecord, AttemptRecord, CodeVersion, SkippedWheel):
    _NESTED[_record] = WireFormat(_record, _record.__name__)
_NESTED[WheelState] = WireFormat(WheelState, "WheelState")
_NESTED[WheelVersion] = WireFormat(WheelVersion, "WheelVersion")
_NESTED[RunStopping] = WireFormat(RunStopping, "RunStopping")

JOB = WireFormat(Job, "Job", omit_none=True, omit_default=frozenset({"attempt_base", "code"}))
_NESTED[Job] = JOB  # a dead letter keeps its job
SNAPSHOT = WireFormat(
    RunSnapshot,
    "RunSnapshot",
    omit_none=frozenset({"retry", "rerun_of", "stopping"}),
    fallbacks={"submitted_at": lambda data: data["updated_at"]},
)
DEAD_LETTER = WireFormat(DeadLetter, "DeadLetter", omit_none=True)
CANCEL_NOTICE = WireFormat(CancelNotice, "CancelNotice")
MAX_DELIVERIES = WireFormat(MaxDeliveriesAdvisory, "MaxDeliveriesAdvisory")
API_KEY = WireFormat(ApiKey, "ApiKey")
WORKER_RECORD = WireFormat(
    WorkerRecord, "WorkerRecord", omit_none=frozenset({"last_run_status", "wheels"})
)
IDEMPOTENCY_RECORD = WireFormat(IdempotencyRecord, "IdempotencyRecord")
WHEEL_INDEX = WireFormat(WheelIndexRecord, "WheelIndexRecord")
WHEEL_HISTORY = WireFormat(WheelHistoryEvent, "WheelHistoryEvent", omit_none=True)
LOG_RECORD = WireFormat(LogRecord, "LogRecord", omit_none=True)

FORMATS: tuple[WireFormat[Any], ...] = (
    JOB,
    SNAPSHOT,
    DEAD_LETTER,
    CANCEL_NOTICE,
    MAX_DELIVERIES,
    API_KEY,
    WORKER_RECORD,
    IDEMPOTENCY_RECORD,
    WHEEL_INDEX,
    WHEEL_HISTORY,
    LOG_RECORD,
)
"""Every top-level record and its asyncapi.yaml message (a contract test checks the list)."""


def encode_snapshot(
    snapshot: RunSnapshot, max_bytes: int | None = None, hard_limit: int | None = None
) -> bytes:
    """Validate and serialise a snapshot, small enough to be stored.

    Over `max_bytes` (PYOCO_MAX_RUN_SNAPSHOT_BYTES), the task records are dropped (and the
    snapshot marked `task_records_truncated`) so that run status stays visible however large the
    outputs are. Still over `hard_limit` (the most NATS takes in one message), errors and the
    attempts list are cut too (`RunSnapshot.shrunk`): a run must always be able to end.

    Raises:
        PayloadTooLarge: even the shrunk snapshot is over `hard_limit` (its params alone are).
    """
    raw = SNAPSHOT.encode(snapshot)
    if max_bytes is not None and len(raw) > max_bytes and snapshot.task_records:
        snapshot = snapshot.without_records()
        raw = SNAPSHOT.encode(snapshot)
    if hard_limit is not None and len(raw) > hard_limit:
        raw = SNAPSHOT.encode(snapshot.shrunk())
        if len(raw) > hard_limit:
            raise PayloadTooLarge("the run's snapshot", len(raw), hard_limit)
    return raw


def retry_from_dict(data: Mapping[str, Any] | None) -> RetryPolicy | None:
    """A retry policy from its (already validated) JSON form, defaults filled in; None if empty."""
    return _NESTED[RetryPolicy].from_dict(data) if data else None
