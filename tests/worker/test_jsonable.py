"""to_json: task values become plain JSON the same way every time, and say when they changed."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from pathlib import PurePosixPath
from typing import Any

import pytest

from pyoco_worker.jsonable import to_json


class Color(enum.Enum):
    RED = "red"
    BLUE = 2


@dataclasses.dataclass
class Point:
    x: int
    labels: set[str]
    color: Color


class Opaque:
    """An object with the default repr, which holds its memory address."""


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


def nested_lists(depth: int) -> list[Any]:
    outer: list[Any] = []
    inner = outer
    for _ in range(depth):
        child: list[Any] = []
        inner.append(child)
        inner = child
    return outer


def depth_of(value: Any) -> int:
    depth = 0
    while isinstance(value, list) and value:
        value = value[0]
        depth += 1
    return depth


def innermost(value: Any) -> Any:
    while isinstance(value, list) and value:
        value = value[0]
    return value


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -7,
        2.5,
        "text é",
        [],
        {},
        {"a": [1, 2.5, None, False, "s"], "b": {"c": {}}},
    ],
)
def test_json_values_are_unchanged_and_not_marked(value: Any) -> None:
    result, converted = to_json(value)

    assert result == value
    assert type(result) is type(value)
    assert converted is False


def test_tuples_become_lists_without_being_marked() -> None:
    assert to_json((1, (2, "3"), [(4,)])) == ([1, [2, "3"], [[4]]], False)


def test_sets_become_sorted_lists() -> None:
    assert to_json({3, 1, 2}) == ([1, 2, 3], True)
    assert to_json(frozenset({"pear", "apple", "fig"})) == (["apple", "fig", "pear"], True)


def test_mixed_sets_sort_by_json_text() -> None:
    result, converted = to_json({"b", 10, None, 2.5, (1, 2)})

    assert result == ["b", 10, 2.5, [1, 2], None]
    assert converted is True


def test_equal_sets_built_in_any_order_give_the_same_list() -> None:
    words = [f"w{i}" for i in range(50)]
    forwards, backwards = set(), set()
    for word in words:
        forwards.add(word)
    for word in reversed(words):
        backwards.add(word)

    assert to_json(forwards) == to_json(backwards) == (sorted(words), True)


def test_bytes_become_base64() -> None:
    assert to_json(b"\x00\xffhi") == ("AP9oaQ==", True)
    assert to_json(bytearray(b"hi")) == ("aGk=", True)
    assert to_json(memoryview(b"hi")) == ("aGk=", True)


@pytest.mark.parametrize(
    ("number", "name"),
    [(float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity")],
)
def test_nan_and_infinities_become_their_names(number: float, name: str) -> None:
    assert to_json(number) == (name, True)
    assert to_json({"v": [number]}) == ({"v": [name]}, True)


def test_non_string_dict_keys_become_text() -> None:
    value = {1: "int", None: "none", (1, 2): "tuple", Color.RED: "enum", "s": "str"}

    result, converted = to_json(value)

    assert result == {"1": "int", "None": "none", "(1, 2)": "tuple", "red": "enum", "s": "str"}
    assert converted is True


def test_enums_become_their_value() -> None:
    assert to_json(Color.RED) == ("red", True)
    assert to_json({"c": [Color.BLUE]}) == ({"c": [2]}, True)


def test_dataclasses_become_dicts_of_their_converted_fields() -> None:
    point = Point(x=1, labels={"b", "a"}, color=Color.RED)

    assert to_json(point) == ({"x": 1, "labels": ["a", "b"], "color": "red"}, True)


def test_a_dataclass_type_is_not_expanded() -> None:
    result, converted = to_json(Point)

    assert result == repr(Point)
    assert converted is True


def test_dates_times_and_paths_become_text() -> None:
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)

    assert to_json(datetime.date(2024, 1, 2)) == ("2024-01-02", True)
    assert to_json(moment) == ("2024-01-02T03:04:05+00:00", True)
    assert to_json(datetime.time(6, 7)) == ("06:07:00", True)
    assert to_json(PurePosixPath("/tmp/out.txt")) == ("/tmp/out.txt", True)


def test_objects_become_their_repr_without_memory_addresses() -> None:
    first, second = to_json(Opaque()), to_json(Opaque())

    assert first == second
    text, converted = first
    assert converted is True
    assert text == f"<{Opaque.__module__}.{Opaque.__qualname__} object>"
    assert " at 0x" not in to_json(lambda: None)[0]


def test_a_repr_that_raises_becomes_the_type_name() -> None:
    result, converted = to_json({"value": BrokenRepr()})

    assert result == {"value": f"<{BrokenRepr.__qualname__}>"}
    assert converted is True


def test_deep_nesting_stops_at_a_fixed_depth() -> None:
    result, converted = to_json(nested_lists(200))

    assert depth_of(result) == 64
    assert isinstance(innermost(result), str)
    assert converted is True
    json.dumps(result)


def test_very_deep_nesting_does_not_overflow_the_stack() -> None:
    result, converted = to_json(nested_lists(100_000))

    assert depth_of(result) == 64
    assert converted is True
    json.dumps(result)


def test_self_referencing_values_terminate() -> None:
    loop: list[Any] = []
    loop.append(loop)

    result, converted = to_json(loop)

    assert converted is True
    json.dumps(result)


def test_nesting_below_the_limit_is_kept() -> None:
    assert to_json(nested_lists(60)) == (nested_lists(60), False)
