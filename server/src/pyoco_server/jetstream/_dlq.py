"""`DeadLetterSink` on the `PYOCO_DLQ` stream."""

from __future__ import annotations

import dataclasses

from pyoco_server.codec import encode_dead_letter
from pyoco_server.jetstream._connection import Connection, translate_errors
from pyoco_server.messages import DeadLetter
from pyoco_server.subjects import Subjects


class NatsDeadLetters:
    """Records jobs that could not be run on `pyoco.dlq.<tag>`."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._subjects = Subjects.from_settings(connection.settings)

    async def publish(self, letter: DeadLetter) -> None:
        """Store a dead letter."""
        data = encode_dead_letter(letter)
        if len(data) > self._connection.nc.max_payload and letter.job is not None:
            # Keep the record (reason, run id, error) even when the job itself is too large.
            data = encode_dead_letter(dataclasses.replace(letter, job=None))
        with translate_errors("recording the dead letter"):
            await self._connection.js.publish(
                self._subjects.dead_letter(letter.tag),
                data,
                stream=self._connection.settings.dlq_stream,
            )
