"""Back a deployment's JetStream state up into a directory (the layout is `_archive`'s).

What is copied: the latest value of every key of the runs, API-key, wheel-index and workflow
buckets (deleted keys skipped), every wheel object, and every message of the dead-letter,
wheel-history and work streams (the queued jobs: without them restored PENDING runs would never
run). `_archive.LEFT_OUT` lists what is not, and why.

The copy is not a point-in-time snapshot: resources are read one after another while the
deployment may keep writing. Stop the gateways and workers first for a consistent copy.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats.js.errors
import orjson
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy, RawStreamMsg

from pyoco_server.jetstream._archive import (
    FORMAT,
    LEFT_OUT,
    VERSION,
    Lines,
    Resources,
    b64,
    logs_stream,
    prepare,
    public_url,
    write_manifest,
)
from pyoco_server.jetstream._connection import Connection, translate_errors

_DELETES = ("DEL", "PURGE")
_KV_OPERATION = "KV-Operation"
_MARKER_REASON = "Nats-Marker-Reason"


async def back_up(connection: Connection, directory: Path) -> dict[str, Any]:
    """Write the deployment's state into `directory` (new or empty); the manifest written.

    Raises:
        BackupError: `directory` exists and is not empty.
        BackendUnavailable: NATS failed a read.
    """
    prepare(directory)
    settings = connection.settings
    resources = Resources.of(settings)
    counts: dict[str, int] = {}
    for role, bucket in resources.buckets.items():
        counts[bucket] = await _copy_bucket(connection, bucket, directory / "kv" / f"{role}.jsonl")
    for role, store in resources.objects.items():
        counts[store] = await _copy_objects(connection, store, directory / "objects", role)
    for role, stream in resources.streams.items():
        path = directory / "streams" / f"{role}.jsonl"
        counts[stream] = await _copy_stream(connection, stream, path)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source": public_url(settings.nats_url),
        "resources": resources.names(),
        "counts": counts,
        "left_out": {
            settings.workers_kv_bucket: LEFT_OUT["workers"],
            settings.idempotency_kv_bucket: LEFT_OUT["idempotency"],
            logs_stream(settings): LEFT_OUT["logs"],
        },
    }
    write_manifest(directory, manifest)
    return manifest


async def _copy_bucket(connection: Connection, bucket: str, path: Path) -> int:
    """Write the latest value of every key of `bucket` (deleted keys skipped); how many."""
    lines = Lines(path)
    prefix = f"$KV.{bucket}."
    try:
        async for msg in _last_per_subject(connection, f"KV_{bucket}", f"{prefix}>"):
            headers = msg.headers or {}
            if headers.get(_KV_OPERATION) in _DELETES or _MARKER_REASON in headers:
                continue
            lines.write({"key": msg.subject.removeprefix(prefix), "value": b64(msg.data)})
    finally:
        lines.close()
    return lines.count


async def _last_per_subject(
    connection: Connection, stream: str, subjects: str
) -> AsyncIterator[Msg]:
    """The last message of each subject of `stream`, streamed by an ordered consumer.

    Each message says how many are still to come, so the end is known without waiting on a
    timeout; every wait is bounded by the request timeout all the same.
    """
    js = connection.js
    timeout = connection.settings.nats_request_timeout_sec
    with translate_errors(f"reading stream {stream}"):
        info = await js.stream_info(stream)
        if not info.state.messages:
            return
        subscription = await js.subscribe(
            subjects,
            stream=stream,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
        )
    try:
        while True:
            with translate_errors(f"reading stream {stream}"):
                msg = await subscription.next_msg(timeout=timeout)
            yield msg
            if not msg.metadata.num_pending:
                return
    finally:
        # Unsubscribe before the connection drains (a pending heartbeat would stall it).
        await subscription.unsubscribe()


async def _copy_objects(connection: Connection, store: str, directory: Path, role: str) -> int:
    """Write every object of `store` as a file, listed in `<role>.jsonl`; how many."""
    js = connection.js
    files = directory / role
    files.mkdir(parents=True, exist_ok=True)
    lines = Lines(directory / f"{role}.jsonl")
    try:
        with translate_errors(f"reading object store {store}"):
            objects = await js.object_store(bucket=store)
            for name in await _object_names(connection, store):
                file = files / str(lines.count + 1)
                with file.open("xb") as sink:
                    # `writeinto`: an object is streamed to the file, never held in memory.
                    result = await objects.get(name, writeinto=sink)
                info = result.info
                lines.write(
                    {
                        "name": name,
                        "file": f"objects/{role}/{file.name}",
                        "size": info.size,
                        "description": info.description,
                        "headers": info.headers,
                    }
                )
    finally:
        lines.close()
    return lines.count


async def _object_names(connection: Connection, store: str) -> list[str]:
    """The names of the objects in `store` that are not deleted.

    From the meta subjects (one per object) of the store's stream, and the last meta message
    of each: nats-py's `list()` is a watch, which can end before the last object.
    """
    stream = f"OBJ_{store}"
    info = await connection.js.stream_info(stream, subjects_filter=f"$O.{store}.M.>")
    names = []
    for subject in info.state.subjects or {}:
        meta = orjson.loads((await connection.js.get_msg(stream, subject=subject)).data or b"{}")
        if not meta.get("deleted"):
            names.append(str(meta["name"]))
    return sorted(names)


async def _copy_stream(connection: Connection, stream: str, path: Path) -> int:
    """Write every message of `stream` (subject, headers, data), oldest first; how many.

    One direct read per message by sequence: a work-queue stream takes no consumer besides
    its workers' (their filters must not overlap), and reading takes nothing off the queue.
    """
    lines = Lines(path)
    try:
        seq = 1
        while (msg := await _next_message(connection, stream, seq)) is not None:
            assert msg.seq is not None
            assert msg.subject is not None
            lines.write(
                {
                    "seq": msg.seq,
                    "subject": msg.subject,
                    "headers": msg.headers or {},
                    "data": b64(msg.data or b""),
                }
            )
            seq = msg.seq + 1
    finally:
        lines.close()
    return lines.count


async def _next_message(connection: Connection, stream: str, seq: int) -> RawStreamMsg | None:
    """The first message of `stream` at sequence `seq` or later; None past the last."""
    with translate_errors(f"reading stream {stream}"):
        try:
            return await connection.js.get_msg(stream, seq=seq, next=True, subject=">")
        except nats.js.errors.NotFoundError:
            return None
