"""The header parser installed into nats-py (jetstream/_headers.py) agrees with nats-py's own."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from nats.aio.client import Client

from pyoco_server import jetstream
from pyoco_server.jetstream import _headers

pieces = st.sampled_from(
    [
        b"Nats-Msg-Id",
        b"Nats-Sequence",
        b"KV-Operation",
        b"a b",
        b"\x1cx",
        b" x ",
        b"",
        b":",
        b": ",
        b"\t",
        b"\xff",
        b"\xc3\xa9",
        b"value",
        b"12",
        b"\r",
        b"\n",
        b"x\x0by",
        b"-",
    ]
)
lines = st.lists(st.lists(pieces, max_size=5).map(b"".join), max_size=8)


@settings(max_examples=400, deadline=None)
@given(lines)
def test_the_installed_parser_agrees_with_nats_pys(block: list[bytes]) -> None:
    raw = b"\r\n".join(block) + b"\r\n\r\n"
    assert _headers.parse_header_lines(raw) == _headers.ORIGINAL(raw)


def test_typical_headers() -> None:
    raw = b"Nats-Stream: KV_runs\r\nNats-Sequence: 42\r\nNats-Msg-Id:  r1 \r\n\r\n"
    assert _headers.parse_header_lines(raw) == _headers.ORIGINAL(raw)
    assert _headers.parse_header_lines(raw)["Nats-Msg-Id"] == "r1"


def test_it_is_installed_in_place_of_nats_pys() -> None:
    assert jetstream is not None  # importing the package installs it
    assert Client._parse_header_lines is _headers.parse_header_lines
    assert _headers.ORIGINAL.__qualname__ == "Client._parse_header_lines"
