"""A write JetStream refused because its stream is at its size limit, as `QueueFull`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import nats.js.errors

from pyoco_server.domain.errors import QueueFull

_STORE_FAILED = 10077
"""JetStream's error code for a write the stream's limits refused (`discard: new`)."""


@contextlib.contextmanager
def refused_when_full(what: str, setting: str) -> Iterator[None]:
    """Turn JetStream's "maximum bytes/messages exceeded" inside the block into `QueueFull`.

    Put it inside `translate_errors`, which turns the other NATS errors into
    `BackendUnavailable`.
    """
    try:
        yield
    except nats.js.errors.APIError as exc:
        if exc.err_code == _STORE_FAILED and "maximum" in (exc.description or ""):
            raise QueueFull(what, setting) from exc
        raise
