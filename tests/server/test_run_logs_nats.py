"""RunLogs on a real nats-server: batched reads by subject, the last record, the signal."""

from __future__ import annotations

import nats
import pytest

from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.domain.records import LogRecord, LogStream
from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream import NatsBackend
from pyoco_server.jetstream._run_logs import READ_MAX_BYTES
from tests.support.nats import on_backend
from tests.support.pool import eventually


def record(run_id: str, message: str) -> LogRecord:
    return LogRecord(run_id, 1, LogStream.STDOUT, message, 1.0, task="t")


def test_reads_take_one_runs_records_among_others_in_order(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        logs = backend.logs
        for n in range(5):
            await logs.publish([record("run-a", f"a{n}"), record("run-b", f"b{n}")])
        first = await logs.read("run-a", 0, 2)
        rest = await logs.read("run-a", first.last_seq, 10)
        nothing = await logs.read("run-a", rest.last_seq, 10)
        unknown = await logs.read("run-c", 0, 10)

        assert [s.record.message for s in first.items] == ["a0", "a1"]
        assert (first.pending, first.last_seq) == (3, first.items[-1].seq)
        assert [s.record.message for s in rest.items] == ["a2", "a3", "a4"]
        assert rest.pending == 0
        assert [s.seq for s in rest.items] == sorted(s.seq for s in rest.items)
        assert (nothing.items, nothing.last_seq, nothing.pending) == ((), rest.last_seq, 0)
        assert (unknown.items, unknown.pending) == ((), 0)

    on_backend(settings, body)


def test_a_read_stops_at_its_byte_bound_and_says_what_is_left(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        big = "x" * (READ_MAX_BYTES // 6)  # within NATS's 1 MiB message limit
        await backend.logs.publish([record("run-a", big) for _ in range(8)])
        read = await backend.logs.read("run-a", 0, 1000)

        assert 1 <= len(read.items) < 8
        assert read.pending == 8 - len(read.items)

    on_backend(settings, body)


def test_the_last_record_and_records_that_are_not_ours(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        assert await backend.logs.last("run-a") is None
        await backend.logs.publish([record("run-a", "one")])
        nc = await nats.connect(settings.nats_url)
        await nc.jetstream().publish("pyoco.logs.run-a", b"not a record")
        await nc.close()
        await backend.logs.publish([record("run-a", "two")])
        read = await backend.logs.read("run-a", 0, 10)
        last = await backend.logs.last("run-a")

        assert [s.record.message for s in read.items] == ["one", "two"]
        assert read.last_seq == read.items[-1].seq
        assert last is not None
        assert (last.seq, last.record.message) == (read.items[-1].seq, "two")

    on_backend(settings, body)


def test_the_signal_counts_what_is_published_while_it_is_open(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        await backend.logs.publish([record("run-a", "before")])
        signal = await backend.logs.signal("run-a")
        await backend.round_trip()
        assert await signal.wait(0.05) is False
        await backend.logs.publish([record("run-a", "1"), record("run-b", "x")])
        await backend.logs.publish([record("run-a", "2")])
        assert await signal.wait(5.0) is True
        await eventually(lambda: signal.published == 2)
        await signal.close()
        await backend.logs.publish([record("run-a", "after")])
        await backend.round_trip()

        assert signal.published == 2

    on_backend(settings, body)


def test_without_the_logs_stream_reads_say_how_to_make_it(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        nc = await nats.connect(settings.nats_url)
        await nc.jetstream().delete_stream("PYOCO_LOGS")
        await nc.close()
        with pytest.raises(BackendUnavailable, match="pyoco-server-admin setup"):
            await backend.logs.read("run-a", 0, 10)
        with pytest.raises(BackendUnavailable):
            await backend.logs.publish([record("run-a", "lost")])

    on_backend(settings, body)
