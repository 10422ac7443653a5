"""domain/copies.py's `replacer` makes what `dataclasses.replace` makes, on the classes it takes."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyoco_server.domain.copies import pickled_by_slots, replacer, slot_setters
from pyoco_server.domain.snapshot import AttemptRecord, AttemptStatus, RunSnapshot, RunStatus
from tests.support.samples import PENDING

SNAPSHOT = PENDING
FIELDS = [field.name for field in dataclasses.fields(RunSnapshot)]
values = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.floats(allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=8))
def test_a_snapshot_copy_is_what_replace_makes(changes: dict[str, object]) -> None:
    copy = replacer(RunSnapshot)(SNAPSHOT, **changes)
    expected = dataclasses.replace(SNAPSHOT, **changes)
    assert type(copy) is RunSnapshot
    assert [getattr(copy, name) for name in FIELDS] == [getattr(expected, name) for name in FIELDS]
    assert SNAPSHOT.status is RunStatus.PENDING  # the original is left as it was


def test_the_snapshots_own_changes_use_it() -> None:
    claimed = SNAPSHOT.claimed("w1", 1, 2.0)
    ended = claimed.finished(RunStatus.COMPLETED, 3.0)
    assert claimed == dataclasses.replace(
        SNAPSHOT,
        status=RunStatus.RUNNING,
        worker_id="w1",
        attempt=1,
        start_time=2.0,
        heartbeat_at=2.0,
        updated_at=2.0,
        attempts=(AttemptRecord(1, "w1", 2.0),),
    )
    assert ended.attempts == (AttemptRecord(1, "w1", 2.0, AttemptStatus.COMPLETED, 3.0),)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ended.status = RunStatus.FAILED  # type: ignore[misc]


def test_an_unknown_field_is_refused_as_replace_refuses_it() -> None:
    with pytest.raises(TypeError, match="no field"):
        replacer(RunSnapshot)(SNAPSHOT, status=RunStatus.RUNNING, nonsense=1)


@dataclasses.dataclass(frozen=True, slots=True)
class _Checked:
    x: int

    def __post_init__(self) -> None:
        if self.x < 0:
            raise ValueError("x < 0")


@dataclasses.dataclass(frozen=True, slots=True)
class _Derived:
    x: int
    y: int = dataclasses.field(init=False, default=0)


@dataclasses.dataclass(frozen=True)
class _NoSlots:
    x: int


@dataclasses.dataclass(slots=True)
class _Mutable:
    x: int


@pytest.mark.parametrize("cls", [_Checked, _Derived, _NoSlots, _Mutable, int])
def test_classes_whose_copies_would_differ_from_replace_are_refused(cls: type) -> None:
    with pytest.raises(TypeError):
        replacer(cls)


@pytest.mark.parametrize("cls", [_Checked, _Derived, _NoSlots, _Mutable, int])
def test_classes_whose_slots_would_not_build_what_init_builds_get_no_setters(cls: type) -> None:
    assert slot_setters(cls) is None
    with pytest.raises(TypeError):
        pickled_by_slots(cls)
