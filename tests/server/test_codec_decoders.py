"""Payloads decode field by field through the records' slots into what `__init__` would build."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyoco_server.domain import codec
from pyoco_server.domain.copies import slot_setters
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from tests.support.samples import FULL_JOB, PENDING

SAMPLES: list[tuple[codec.WireFormat[Any], Any]] = [
    (codec.SNAPSHOT, PENDING),
    (codec.SNAPSHOT, PENDING.claimed("w1", 1, 2.0).finished(RunStatus.COMPLETED, 3.0)),
    (codec.JOB, FULL_JOB),
]


def test_every_top_level_record_is_built_through_its_slots() -> None:
    assert all(slot_setters(wire.record) is not None for wire in codec.FORMATS)


@pytest.mark.parametrize(("wire", "record"), SAMPLES)
def test_a_decoded_record_equals_the_one_encoded(wire: codec.WireFormat[Any], record: Any) -> None:
    decoded = wire.decode(wire.encode(record))
    assert type(decoded) is type(record)
    assert decoded == record
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.run_id = "other"


OPTIONAL = [
    field.name
    for field in dataclasses.fields(RunSnapshot)
    if field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
]


@settings(max_examples=100, deadline=None)
@given(st.sets(st.sampled_from(OPTIONAL)))
def test_fields_missing_from_a_payload_get_the_defaults_init_gives(left_out: set[str]) -> None:
    payload = codec.SNAPSHOT.to_dict(PENDING)
    for name in left_out:
        payload.pop(name, None)
    kept = {name: getattr(PENDING, name) for name in payload if name not in left_out}
    if "submitted_at" not in payload:  # its fallback: the payload's updated_at
        kept["submitted_at"] = payload["updated_at"]
    first, second = codec.SNAPSHOT.from_dict(payload), codec.SNAPSHOT.from_dict(payload)
    assert first == RunSnapshot(**kept)
    if "tasks" in left_out:  # a default factory's value is new for each record
        assert first.tasks is not second.tasks


def test_a_payload_without_a_required_field_is_refused() -> None:
    payload = codec.SNAPSHOT.to_dict(PENDING)
    del payload["run_id"]
    with pytest.raises(TypeError, match="run_id"):
        codec.SNAPSHOT.from_dict(payload)
