"""Direct NATS access for tests that act as a foreign producer or inspect streams."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats


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
