"""Where a delivered JetStream message sits, read from its reply subject.

A consumer's message carries its stream sequence, delivery count and the messages still pending
in its reply subject (`$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.
<time>.<pending>`, or the longer form with a domain and an account hash after `ACK`). nats-py's
`Msg.metadata` parses all of it into nested dataclasses and a `datetime`: about 7 µs a message,
on every job a worker takes and every change the gateway's mirrors apply (three per run). The
three numbers used here cost a fifth of that. Any other subject is left to `Msg.metadata`, which
raises as before. tests/server/test_positions.py checks both forms against nats-py's parser.
"""

from __future__ import annotations

from typing import NamedTuple

from nats.aio.msg import Msg

_SHORT = 9
"""Tokens of the form without a domain."""
_LONG_AT_LEAST = 11
"""Tokens of the form with a domain and an account hash (a trailing token is optional)."""


class Position(NamedTuple):
    """A delivered message's stream sequence, delivery count and pending messages after it."""

    stream_seq: int
    delivered: int
    pending: int


def position(msg: Msg) -> Position:
    """`msg`'s position (`nats.errors.NotJSMessageError` for a message not from a consumer)."""
    tokens = (msg.reply or "").split(".")
    count = len(tokens)
    if count >= _SHORT and tokens[0] == "$JS" and tokens[1] == "ACK":
        if count == _SHORT:
            return Position(int(tokens[5]), int(tokens[4]), int(tokens[8]))
        if count >= _LONG_AT_LEAST:
            return Position(int(tokens[7]), int(tokens[6]), int(tokens[10]))
    metadata = msg.metadata
    return Position(metadata.sequence.stream, metadata.num_delivered, metadata.num_pending)
