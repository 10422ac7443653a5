"""`DeadLetterSink` and `DeadLetters` on the `PYOCO_DLQ` stream.

Records are read by stream sequence with the JetStream API's message get (the stream is not
created with direct get allowed), a batch of requests at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import json
import logging
import math
from collections.abc import AsyncGenerator
from typing import Any

import nats.js.errors

from pyoco_server.domain.codec import DEAD_LETTER
from pyoco_server.domain.errors import DecodeError
from pyoco_server.domain.records import DeadLetter, DeadLetterReason
from pyoco_server.domain.subjects import Subjects
from pyoco_server.jetstream._connection import Connection, translate_errors
from pyoco_server.ports import DeadLetterSlice, StoredDeadLetter

log = logging.getLogger(__name__)

_MIN_READS = 200
"""A page reads at most max(limit * 4, this) sequences, matching or not."""
_READ_BATCH = 32
"""Sequences read concurrently while walking down the stream."""

_MAX_SEQ = 2**63 - 1
_PAYLOAD_CHARS = 4096
_GONE = frozenset({10037, 10043, 10057})
"""JetStream error codes for a sequence with no message: not found (get), not found and
past the end (delete)."""


class NatsDeadLetters:
    """Records jobs that could not be run on `pyoco.dlq.<tag>`, and reads them back."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._subjects = Subjects.from_settings(connection.settings)
        self._stream = connection.settings.dlq_stream

    async def publish(self, letter: DeadLetter) -> None:
        """Store a dead letter."""
        data = DEAD_LETTER.encode(letter)
        if len(data) > self._connection.nc.max_payload and letter.job is not None:
            # Keep the record (reason, run id, error) even when the job itself is too large.
            data = DEAD_LETTER.encode(dataclasses.replace(letter, job=None))
        with translate_errors("recording the dead letter"):
            await self._connection.js.publish(
                self._subjects.dead_letter(letter.tag), data, stream=self._stream
            )

    async def page(
        self,
        *,
        reason: DeadLetterReason | None,
        tag: str | None,
        limit: int,
        before: int | None,
    ) -> DeadLetterSlice:
        """Up to `limit` records matching `reason` and `tag`, newest first, from `before` down.

        Walks the sequences downward and reads at most max(limit * 4, 200) of them, so a page
        costs a bounded number of requests however rare the filter; `next_seq` is the next
        sequence to read, None once the oldest record was read.
        """
        first, last = await self._bounds()
        start = last if before is None else min(before, last)
        stop = max(first, start - max(limit * 4, _MIN_READS) + 1)
        items: list[StoredDeadLetter] = []
        async with contextlib.aclosing(self._read_down(start, stop)) as reads:
            async for seq, stored in reads:
                if stored is not None and _matches(stored.letter, reason, tag):
                    items.append(stored)
                if len(items) == limit:
                    stop = seq
                    break
        return DeadLetterSlice(tuple(items), stop - 1 if stop - 1 >= first else None)

    async def _read_down(
        self, start: int, stop: int
    ) -> AsyncGenerator[tuple[int, StoredDeadLetter | None], None]:
        """Each sequence from `start` down to `stop` with its record, read a batch at a time.

        The reads of a batch run concurrently (a request each, answered in one round trip);
        they only read, so when one fails the others may simply finish.
        """
        for high in range(start, stop - 1, -_READ_BATCH):
            batch = range(high, max(stop, high - _READ_BATCH + 1) - 1, -1)
            found = await asyncio.gather(*(self.get(seq) for seq in batch))
            for seq, stored in zip(batch, found, strict=True):
                yield seq, stored

    async def _bounds(self) -> tuple[int, int]:
        """The first and last sequence of the stream (first > last when it is empty)."""
        with translate_errors("reading the dead-letter stream"):
            info = await self._connection.js.stream_info(self._stream)
        state = info.state
        if not state.messages:
            return 1, 0
        return max(1, state.first_seq), state.last_seq

    async def get(self, seq: int) -> StoredDeadLetter | None:
        """The record at `seq`, or None when there is none (deleted, expired, never written).

        A record that does not follow asyncapi.yaml is shown rather than hidden (see
        `_unreadable`), so that an operator sees it and can tell where it came from.
        """
        if not 1 <= seq <= _MAX_SEQ:
            return None
        js = self._connection.js
        with translate_errors("reading a dead letter"):
            try:
                msg = await js.get_msg(self._stream, seq)
            except nats.js.errors.APIError as exc:
                if exc.err_code in _GONE:
                    return None
                raise
        raw = bytes(msg.data or b"")
        try:
            letter = DEAD_LETTER.decode(raw)
        except DecodeError as exc:
            letter = _unreadable(str(msg.subject), raw, exc, msg.time)
        return StoredDeadLetter(seq, letter)

    async def delete(self, seq: int) -> None:
        """Remove the record at `seq`; nothing happens when it is already gone."""
        js = self._connection.js
        with translate_errors("deleting a dead letter"):
            try:
                await js.delete_msg(self._stream, seq)
            except nats.js.errors.APIError as exc:
                if exc.err_code not in _GONE:
                    raise


def _matches(letter: DeadLetter, reason: DeadLetterReason | None, tag: str | None) -> bool:
    return (reason is None or letter.reason == reason) and (tag is None or letter.tag == tag)


def _unreadable(
    subject: str, raw: bytes, error: DecodeError, stored_at: datetime.datetime | None
) -> DeadLetter:
    """A stand-in for a record the codec refused, from whatever its JSON still says.

    It has no job, so it cannot be redriven; `payload` shows the start of the record.
    """
    log.warning("dead letter on %s does not decode: %s", subject, error.detail)
    fields = _json_object(raw)
    tag = fields.get("tag")
    return DeadLetter(
        reason=_reason(fields.get("reason")),
        error=f"this record does not follow asyncapi.yaml ({error.detail})",
        timestamp=_timestamp(fields.get("timestamp"), stored_at),
        tag=tag if isinstance(tag, str) else subject.rsplit(".", 1)[-1],
        subject=subject,
        payload=raw[:_PAYLOAD_CHARS].decode("utf-8", errors="replace"),
    )


def _json_object(raw: bytes) -> dict[str, Any]:
    """The record's top-level JSON object, or {} when it is not one (read for display only)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _reason(value: object) -> DeadLetterReason:
    """The record's own reason when it names one, else `invalid_job` (the record is invalid)."""
    for reason in DeadLetterReason:
        if value == reason.value:
            return reason
    return DeadLetterReason.INVALID_JOB


def _timestamp(value: object, stored_at: datetime.datetime | None) -> float:
    """The record's own timestamp when it is a number, else when the stream stored it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return stored_at.timestamp() if stored_at is not None else 0.0
