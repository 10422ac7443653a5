"""The task states a run process leaves in its shared buffer for the worker (child.py)."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st
from pyoco.core.models import TaskState

from pyoco_worker.child import _StatesRecord, decode_states

names = st.text("abcxyz_-09.", min_size=1, max_size=12)
states = st.one_of(st.sampled_from(list(TaskState)), st.sampled_from(["RUNNING", "SUCCEEDED"]))


def _as_text(state: object) -> str:
    return state.value if isinstance(state, enum.Enum) else str(state)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(names, states, max_size=40), st.integers(min_value=1, max_value=400))
def test_the_buffer_holds_the_longest_prefix_of_entries_that_fits(
    tasks: dict[str, object], capacity: int
) -> None:
    encoded = _StatesRecord(capacity).changed(lambda _names: tasks, None)
    assert len(encoded) < capacity  # the NUL still fits
    kept: dict[str, str] = {}
    size = 0
    for name, state in tasks.items():
        entry = len(f"{name}={_as_text(state)};".encode())
        if size + entry >= capacity:
            break
        kept[name] = _as_text(state)
        size += entry
    assert decode_states(encoded) == kept
    assert len(encoded) == size


def test_an_enum_state_is_written_as_its_value_and_a_change_shows() -> None:
    tasks = {"a": TaskState.RUNNING, "b": TaskState.PENDING}
    record = _StatesRecord(100)
    assert record.changed(lambda _names: tasks, None) == b"a=RUNNING;b=PENDING;"
    tasks["a"] = TaskState.SUCCEEDED
    assert decode_states(record.changed(lambda _names: tasks, "a")) == {
        "a": "SUCCEEDED",
        "b": "PENDING",
    }


class Run:
    """A run's task states as pyoco keeps them, and what the record asks of them."""

    def __init__(self, *names: str) -> None:
        self.tasks: dict[str, TaskState] = dict.fromkeys(names, TaskState.PENDING)
        self.asked: list[list[str] | None] = []

    def states_of(self, names: Iterable[str] | None) -> dict[str, TaskState]:
        self.asked.append(None if names is None else sorted(names))
        if names is None:
            return dict(self.tasks)
        return {name: self.tasks[name] for name in names}


def test_the_record_follows_pyocos_order_reading_only_the_tasks_in_flight() -> None:
    run = Run("a", "b", "c")
    record = _StatesRecord(1000)
    assert record.changed(run.states_of, None) == b"a=PENDING;b=PENDING;c=PENDING;"
    run.tasks["a"] = TaskState.RUNNING
    assert record.changed(run.states_of, "a") == b"a=RUNNING;b=PENDING;c=PENDING;"
    assert record.changed(run.states_of, "a") == b"a=RUNNING;b=PENDING;c=PENDING;"  # its end
    run.tasks["a"] = TaskState.SUCCEEDED  # pyoco sets it after telling the end
    run.tasks["b"] = TaskState.RUNNING
    assert record.changed(run.states_of, "b") == b"a=SUCCEEDED;b=RUNNING;c=PENDING;"
    run.tasks["b"] = TaskState.FAILED
    assert record.changed(run.states_of, "b") == b"a=SUCCEEDED;b=FAILED;c=PENDING;"
    run.tasks["c"] = TaskState.CANCELLED  # set without a change of its own
    assert record.changed(run.states_of, None) == b"a=SUCCEEDED;b=FAILED;c=CANCELLED;"
    assert run.asked == [None, ["a"], ["a"], ["a", "b"], ["b"], None]


def test_a_run_of_many_tasks_reads_few_at_each_change() -> None:
    names = [f"t{i}" for i in range(50)]
    run = Run(*names)
    record = _StatesRecord(16384)
    record.changed(run.states_of, None)
    for name in names:
        run.tasks[name] = TaskState.RUNNING
        record.changed(run.states_of, name)
        record.changed(run.states_of, name)
        run.tasks[name] = TaskState.SUCCEEDED
    final = record.changed(run.states_of, None)
    assert decode_states(final) == dict.fromkeys(names, "SUCCEEDED")
    assert max(len(asked) for asked in run.asked if asked is not None) == 2
