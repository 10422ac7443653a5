"""`codec.loads` reads bytes with orjson where it can, and agrees with the standard library.

`_loads_exactly` is the standard library alone (what `loads` was before orjson read it): for
any bytes, `loads` must give the same value (types and float signs included) or refuse too.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pyoco_server.domain import codec


def outcome(read: Any, raw: bytes) -> tuple[str, str]:
    """What reading `raw` gives: the value's exact form, or that it was refused."""
    try:
        value = read(raw)
    except ValueError:
        return ("refused", "")
    return ("read", exact(value))


def exact(value: Any) -> str:
    """`value` written out with every type, so 1 and 1.0, 0.0 and -0.0 differ."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{exact(k)}:{exact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(exact(item) for item in value) + "]"
    if isinstance(value, float):
        return f"float({value!r},{math.copysign(1, value)})"
    return f"{type(value).__name__}({value!r})"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(json_values, st.booleans(), st.sampled_from([None, 0, 2]))
def test_json_text_reads_the_same(value: Any, ascii_only: bool, indent: int | None) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode("utf-8", "surrogatepass")
    assert outcome(codec.loads, raw) == outcome(codec._loads_exactly, raw)


pieces = st.sampled_from(
    [
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b'"',
        b'"a"',
        b"\\",
        b"\\u",
        b"\\ud83d",
        b"\\ude00",
        b"\\u0000",
        b"0",
        b"1",
        b"9" * 10,
        b"-",
        b".",
        b"e",
        b"E+",
        b"308",
        b"999",
        b"true",
        b"null",
        b"NaN",
        b"Infinity",
        b" ",
        b"\t",
        b"\n",
        b"\x0c",
        b"\x00",
        b"\xef\xbb\xbf",
        b"\xc3\xa9",
        b"\xed\xa0\x80",
        b"\xff",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(pieces, max_size=12).map(b"".join))
@example(b'{"a":1,"b":2,"a":3}')
@example(b'"\\ud83d\\ude00"')
@example(b'"\\ud83d"')
@example(b"1e309")
@example(b"-0")
@example(b"-0.0")
@example(b"18446744073709551616")
@example(b"1234567890123456789")
@example(b"123456789012345678")
@example(b"\xef\xbb\xbf{}")
def test_any_bytes_read_the_same(raw: bytes) -> None:
    assert outcome(codec.loads, raw) == outcome(codec._loads_exactly, raw)


@settings(max_examples=500, deadline=None)
@given(st.lists(pieces, max_size=12).map(lambda parts: b"".join(parts).decode("latin-1")))
@example("\ufeff{}")
@example('"\\ud83d"')  # a lone surrogate escape, in JSON
@example('"\ud83d"')  # a lone surrogate in the text itself: not UTF-8 encodable
@example('{"a": "\u00e9\U0001f600"}')
@example('["\u00e9"]')
@example("18446744073709551616")
def test_any_text_reads_the_same(raw: str) -> None:
    """Text is read as its UTF-8 bytes: the same as the standard library reading the text."""
    assert outcome(codec.loads, raw) == outcome(codec._loads_exactly, raw)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"123456789012345678901234567890", 123456789012345678901234567890),
        (b"-9223372036854775809", -9223372036854775809),
        (b'{"n": 18446744073709551616}', {"n": 18446744073709551616}),
    ],
)
def test_integers_beyond_64_bits_stay_exact(raw: bytes, value: Any) -> None:
    read = codec.loads(raw)
    assert read == value
    assert exact(read) == exact(value)


def test_nesting_beyond_orjsons_depth_is_left_to_the_standard_library() -> None:
    deep = b"[" * 900 + b"]" * 900
    assert codec.loads(deep) == codec._loads_exactly(deep)
    with pytest.raises(ValueError, match="nested too deeply"):
        codec.loads(b"[" * 1100 + b"]" * 1100)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"NaN", "NaN is not a JSON value"),
        (b"[Infinity]", "Infinity is not a JSON value"),
        (b'{"x": -Infinity}', "-Infinity is not a JSON value"),
        (b"\xff", "can't decode byte 0xff"),
        (b"", "Expecting value"),
    ],
)
def test_what_is_not_strict_json_is_refused_with_the_standard_librarys_reason(
    raw: bytes, why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        codec.loads(raw)
