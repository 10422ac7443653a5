"""Direct NATS access for tests that act as a foreign producer or inspect streams.

With these a test stands in for a worker (publishing dead letters, writing snapshots, taking
jobs off the work stream) or checks what the deployment stored, with nats-py only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import nats

from pyoco_server.domain.codec import DEAD_LETTER, JOB, SNAPSHOT, encode_snapshot
from pyoco_server.domain.records import DeadLetter, Job
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.jetstream import NatsBackend


def on_backend(settings: Settings, body: Callable[[NatsBackend], Awaitable[Any]]) -> Any:
    """Run `body` with a `NatsBackend` connected to the test's NATS (closed afterwards)."""

    async def run() -> Any:
        backend = NatsBackend(settings, "test-backend")
        await backend.start()
        try:
            assert await backend.wait_ready(10)
            return await body(backend)
        finally:
            await backend.close()

    return asyncio.run(run())


async def _publish(url: str, subject: str, payload: bytes) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().publish(subject, payload)
    finally:
        await nc.close()


def publish_raw(url: str, subject: str, payload: bytes) -> None:
    """Publish raw bytes to a JetStream subject (bypassing the gateway's validation)."""
    asyncio.run(_publish(url, subject, payload))


async def _stream_messages(url: str, stream: str) -> list[dict[str, Any]]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        messages = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            if info.state.messages == 0:
                break
            msg = await js.get_msg(stream, seq)
            messages.append(json.loads(msg.data))
        return messages
    finally:
        await nc.close()


def dead_letters(url: str, stream: str = "PYOCO_DLQ") -> list[dict[str, Any]]:
    """Every record in the dead-letter stream."""
    return asyncio.run(_stream_messages(url, stream))


async def _keys(url: str, bucket: str) -> list[str]:
    nc = await nats.connect(url)
    try:
        kv = await nc.jetstream().key_value(bucket)
        try:
            return list(await kv.keys())
        except nats.js.errors.NoKeysError:
            return []
    finally:
        await nc.close()


def bucket_keys(url: str, bucket: str = "pyoco_runs") -> list[str]:
    """Every key of a KV bucket."""
    return asyncio.run(_keys(url, bucket))


async def _publish_dead_letters(
    settings: Settings, records: Sequence[DeadLetter | tuple[str, bytes]]
) -> list[int]:
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        seqs = []
        for item in records:
            if isinstance(item, DeadLetter):
                subject, data = f"pyoco.dlq.{item.tag}", DEAD_LETTER.encode(item)
            else:
                subject, data = item
            seqs.append((await js.publish(subject, data, stream=settings.dlq_stream)).seq)
        return seqs
    finally:
        await nc.close()


def publish_dead_letters(settings: Settings, *records: DeadLetter | tuple[str, bytes]) -> list[int]:
    """Publish dead letters (or raw (subject, bytes) records) in order; their sequences."""
    return asyncio.run(_publish_dead_letters(settings, records))


async def _delete_messages(url: str, stream: str, seqs: Sequence[int]) -> None:
    nc = await nats.connect(url)
    try:
        for seq in seqs:
            await nc.jetstream().delete_msg(stream, seq)
    finally:
        await nc.close()


def delete_messages(url: str, stream: str, *seqs: int) -> None:
    """Delete messages of `stream` by sequence."""
    asyncio.run(_delete_messages(url, stream, seqs))


@dataclasses.dataclass
class WorkMessage:
    """A job on the work stream, with its sequence, subject and message id."""

    seq: int
    subject: str
    job: Job
    msg_id: str


async def _work(settings: Settings) -> list[WorkMessage]:
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        state = (await js.stream_info(settings.work_stream)).state
        found = []
        for seq in range(max(1, state.first_seq), state.last_seq + 1):
            try:
                msg = await js.get_msg(settings.work_stream, seq)
            except nats.js.errors.NotFoundError:
                continue
            assert msg.subject is not None
            assert msg.data is not None
            headers = msg.headers or {}
            found.append(
                WorkMessage(seq, msg.subject, JOB.decode(msg.data), headers["Nats-Msg-Id"])
            )
        return found
    finally:
        await nc.close()


def work_messages(settings: Settings) -> list[WorkMessage]:
    """Every job on the work stream, oldest first."""
    return asyncio.run(_work(settings))


async def _snapshot(
    settings: Settings, run_id: str, write: RunSnapshot | None
) -> tuple[RunSnapshot, int]:
    nc = await nats.connect(settings.nats_url)
    try:
        kv = await nc.jetstream().key_value(settings.runs_kv_bucket)
        if write is not None:
            await kv.put(run_id, encode_snapshot(write))
        entry = await kv.get(run_id)
        assert entry.value is not None
        return SNAPSHOT.decode(entry.value), int(entry.revision or 0)
    finally:
        await nc.close()


def stored_snapshot(settings: Settings, run_id: str) -> tuple[RunSnapshot, int]:
    """The run's snapshot in the bucket and its revision."""
    return asyncio.run(_snapshot(settings, run_id, None))


def write_snapshot(settings: Settings, snapshot: RunSnapshot) -> None:
    """Write a snapshot as the run's worker would."""
    asyncio.run(_snapshot(settings, snapshot.run_id, snapshot))
