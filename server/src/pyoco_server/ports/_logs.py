"""The run-logs port: what runs' tasks printed and logged, one ordered log per run."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from pyoco_server.domain.records import LogRecord


@dataclasses.dataclass(frozen=True, slots=True)
class StoredLogRecord:
    """A log record and its sequence in the logs stream (the API's `seq`)."""

    seq: int
    record: LogRecord


@dataclasses.dataclass(frozen=True, slots=True)
class LogSlice:
    """Records of one run read in order.

    Attributes:
        items: The records read, oldest first.
        last_seq: The sequence to read after next time (records that did not decode are
            skipped but still passed); the `after` of the read when nothing was read.
        pending: How many more records of the run were stored after `last_seq` at the time.
    """

    items: tuple[StoredLogRecord, ...]
    last_seq: int
    pending: int


class LogSignal(Protocol):
    """Counts the records published to one run's log while it is open (a hint to read)."""

    @property
    def published(self) -> int:
        """Records published since the signal was opened."""

    async def wait(self, timeout: float) -> bool:
        """Wait until a record is published after the last `wait`; False after `timeout`."""

    async def close(self) -> None:
        """Stop counting (never raises)."""


class RunLogs(Protocol):
    """The logs of runs, one subject per run in one stream (asyncapi.yaml `runLogs`).

    Records are never changed; the stream drops the oldest past its age and size bounds.
    `system` records are written only when a run's log reaches its limit, and nothing of the
    run is written after one, so the latest record says whether a log was cut.
    """

    async def publish(self, records: Sequence[LogRecord]) -> None:
        """Store `records` in this order; returns once all are stored.

        Raises:
            BackendUnavailable: NATS did not store them all (some may be stored).
        """

    async def read(self, run_id: str, after: int, limit: int) -> LogSlice:
        """Up to `limit` records of `run_id` with a sequence above `after`, oldest first.

        Costs one request however many other runs the stream holds.
        """

    async def last(self, run_id: str) -> StoredLogRecord | None:
        """The latest record of `run_id`, or None when it has none."""

    async def signal(self, run_id: str) -> LogSignal:
        """A signal of the records published to `run_id` from now on (close it when done)."""
