"""`jsonable.bounded`: a task value whose JSON is larger than a record may hold becomes a note."""

from __future__ import annotations

from typing import Any

import pytest

from pyoco_server.domain.codec import dumps
from pyoco_worker.jsonable import bounded

LIMIT = 1000


@pytest.mark.parametrize(
    "value",
    [None, True, 12, 1.5, "", "a" * (LIMIT // 6), "é" * (LIMIT // 6), [1] * 100, {"k": "v" * 900}],
)
def test_values_within_the_limit_are_kept_as_they_are(value: Any) -> None:
    assert bounded(value, False, LIMIT) == (value, False)
    assert bounded(value, True, LIMIT) == (value, True)


def test_text_measured_in_bytes_near_the_limit() -> None:
    """Text of fewer characters than the limit may still take more bytes once escaped."""
    quoted = '"' * (LIMIT // 2)  # each becomes \\" in JSON: 2 bytes
    assert len(dumps(quoted)) > LIMIT
    value, converted = bounded(quoted, False, LIMIT)
    assert converted
    assert value.startswith(f"<text of {LIMIT + 2} bytes as JSON: more than the {LIMIT} bytes")


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("x" * (LIMIT + 1), f"text of {LIMIT + 1} characters"),
        (list(range(400)), "an array of 1491 bytes as JSON"),
        ({"k": "v" * LIMIT}, f"an object of {LIMIT + 8} bytes as JSON"),
    ],
)
def test_values_over_the_limit_become_a_note(value: Any, what: str) -> None:
    note, converted = bounded(value, False, LIMIT)
    assert converted
    assert note == (
        f"<{what}: more than the {LIMIT} bytes a task's record may hold "
        "(PYOCO_MAX_RUN_SNAPSHOT_BYTES); not kept>"
    )
