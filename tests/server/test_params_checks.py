"""What a run's params may hold, checked before anything is stored: plain JSON, nested at most
`MAX_NESTING` levels deep, text that is Unicode; and the JSON reader's refusals in words a client
can act on. Through HTTP: tests/e2e/test_params_limits.py."""

from __future__ import annotations

import sys

import pytest

from pyoco_server.domain.codec import MAX_NESTING, check_nesting, loads
from pyoco_server.domain.errors import InvalidInput
from pyoco_server.services.runs import Submission
from tests.support.loop import Deployment


def nested(levels: int, container: type = list) -> object:
    """`levels` arrays (or objects, or tuples), one in the other, around a 1."""
    value: object = 1
    for _ in range(levels):
        value = {"k": value} if container is dict else container([value])
    return value


@pytest.mark.parametrize("container", [list, dict, tuple])
def test_nesting_is_measured_to_the_limit_whatever_the_containers(container: type) -> None:
    check_nesting(nested(MAX_NESTING, container))
    check_nesting([1, nested(MAX_NESTING - 1, container), {"a": "b"}])
    with pytest.raises(ValueError, match=f"more than {MAX_NESTING} levels deep"):
        check_nesting(nested(MAX_NESTING + 1, container))
    with pytest.raises(ValueError, match="levels deep"):  # one deep branch among shallow ones
        check_nesting({"a": 1, "b": [2, 3], "c": nested(MAX_NESTING, container)})


def test_nesting_far_past_the_interpreters_recursion_limit_is_measured() -> None:
    check_nesting("text")
    check_nesting({})
    with pytest.raises(ValueError, match="levels deep"):
        check_nesting(nested(sys.getrecursionlimit() * 20))


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"x": nested(MAX_NESTING)}, f"more than {MAX_NESTING} levels deep"),
        ({"x": nested(50_000)}, f"more than {MAX_NESTING} levels deep"),
        ({"x": "a\ud800"}, "not valid Unicode"),
        ({"x\udc00": 1}, "not valid Unicode"),
        ({"x": [float("nan")]}, "NaN and Infinity are not allowed"),
    ],
    ids=["one-too-deep", "far-too-deep", "lone-surrogate", "lone-surrogate-key", "nan"],
)
def test_params_that_are_not_plain_json_are_refused_saying_why(
    params: dict[str, object], words: str
) -> None:
    service = Deployment().service
    with pytest.raises(InvalidInput, match=words):
        service.check(Submission("main", params))


def test_params_as_deep_as_allowed_are_taken() -> None:
    Deployment().service.check(Submission("main", {"x": nested(MAX_NESTING - 1)}))


def test_what_clients_send_may_not_hold_a_lone_surrogate() -> None:
    for raw in (b'{"a": "x\\ud800"}', b'{"a\\udfff": 1}', b'["\\ude00\\ud83d"]', '["\ud800"]'):
        with pytest.raises(ValueError, match="lone surrogate"):
            loads(raw, unicode_only=True)
        assert loads(raw) is not None  # what NATS carries is read as the standard library does
    assert loads(b'["\\ud83d\\ude00", "\\\\ud800"]', unicode_only=True) == ["\U0001f600", "\\ud800"]


def test_a_number_past_pythons_digit_limit_is_refused_in_words_a_client_can_act_on() -> None:
    limit = sys.get_int_max_str_digits()
    assert loads(b"[" + b"9" * limit + b"]") == [int("9" * limit)]
    for raw in (b"[" + b"9" * (limit + 1) + b"]", b"[-" + b"9" * (limit + 1) + b"]"):
        with pytest.raises(ValueError, match=f"more than {limit} digits; send such a number"):
            loads(raw)
