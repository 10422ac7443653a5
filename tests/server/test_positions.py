"""A message's position from its reply subject (jetstream/_positions.py), as nats-py reads it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError

from pyoco_server.jetstream._positions import position

numbers = st.integers(min_value=0, max_value=2**63 - 1).map(str)
names = st.text("abcXYZ_-09", min_size=1, max_size=12)


def _msg(reply: str) -> Msg:
    return Msg(None, subject="pyoco.work.default", reply=reply)  # type: ignore[arg-type]


def _theirs(msg: Msg) -> tuple[int, int, int]:
    metadata = msg.metadata
    return metadata.sequence.stream, metadata.num_delivered, metadata.num_pending


@settings(max_examples=300, deadline=None)
@given(names, names, numbers, numbers, numbers, numbers, numbers)
def test_the_short_form_agrees_with_nats_py(
    stream: str, consumer: str, delivered: str, sseq: str, cseq: str, ts: str, pending: str
) -> None:
    msg = _msg(f"$JS.ACK.{stream}.{consumer}.{delivered}.{sseq}.{cseq}.{ts}.{pending}")
    assert tuple(position(msg)) == _theirs(msg)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["_", "hub"]),
    names,
    names,
    names,
    numbers,
    numbers,
    numbers,
    numbers,
    numbers,
    st.sampled_from(["", ".x9z", ".tok.more"]),
)
def test_the_form_with_a_domain_agrees_with_nats_py(
    domain: str,
    account: str,
    stream: str,
    consumer: str,
    delivered: str,
    sseq: str,
    cseq: str,
    ts: str,
    pending: str,
    tail: str,
) -> None:
    reply = (
        f"$JS.ACK.{domain}.{account}.{stream}.{consumer}.{delivered}.{sseq}.{cseq}.{ts}.{pending}"
    )
    msg = _msg(reply + tail)
    assert tuple(position(msg)) == _theirs(msg)


def test_a_typical_reply() -> None:
    msg = _msg("$JS.ACK.KV_pyoco_runs.abcd.3.41.7.1733100000000000000.12")
    assert position(msg) == (41, 3, 12)
    assert position(msg).stream_seq == 41


@pytest.mark.parametrize(
    "reply",
    [
        None,
        "",
        "_INBOX.abc",
        "$JS.ACK.a.b.1.2.3",
        "$JS.NAK.a.b.1.2.3.4.5",
        "$JS.ACK.a.b.1.2.3.4.5.6",
    ],
)
def test_other_subjects_are_refused_as_nats_py_refuses_them(reply: str | None) -> None:
    with pytest.raises(NotJSMessageError):
        _theirs(_msg(reply))  # type: ignore[arg-type]
    with pytest.raises(NotJSMessageError):
        position(_msg(reply))  # type: ignore[arg-type]
