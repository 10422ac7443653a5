"""Restore a backup (`_backup`, laid out as in `_archive`) into the NATS a connection uses.

The connection has created the resources first (with the replicas `PYOCO_JS_REPLICAS` asks
for), so a backup of one server restores into a cluster as replicated resources. Order: wheel
objects, then the buckets, then the streams with the work queue last, so that a worker taking a
restored job finds its run and its wheels.

Running a restore again (after an interruption, with `force`) writes every key and object
again (a new revision of the same value) and publishes each stream message with a `Nats-Msg-Id`
made of the backup's time, the stream's role and the message's sequence in the source:
JetStream drops a message already stored within its duplicate window (2 minutes), so a re-run
within that window does not duplicate messages; a later one does.

What changes in a restore: revisions and stream sequences start afresh (so dead-letter ids are
new), retention clocks (run retention, stream max age) start at the restore, and jobs carry
the restore's `Nats-Msg-Id` instead of their run id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nats.js.api import ObjectMeta

from pyoco_server.domain.errors import BackupError, RestoreTargetInUse
from pyoco_server.jetstream._archive import (
    Resources,
    public_url,
    read_lines,
    read_manifest,
    unb64,
)
from pyoco_server.jetstream._connection import Connection, translate_errors

_DROPPED_HEADERS = ("Nats-Msg-Id", "Nats-Expected-")
"""Headers of a stored message not published again: the id is the restore's own, and the
expectations (stream name, last sequence) held for the source, not the target."""


async def restore(connection: Connection, directory: Path, *, force: bool) -> dict[str, Any]:
    """Put the backup in `directory` back into the connection's NATS; what was restored.

    Raises:
        BackupError: `directory` holds no backup this version reads.
        RestoreTargetInUse: the runs bucket holds data and `force` is False.
        BackendUnavailable: NATS failed a write.
    """
    manifest = read_manifest(directory)
    settings = connection.settings
    resources = Resources.of(settings)
    if not force:
        await _refuse_when_in_use(connection, settings.runs_kv_bucket)
    counts: dict[str, int] = {}
    for role, store in resources.objects.items():
        counts[store] = await _put_objects(connection, store, directory, role)
    for role, bucket in resources.buckets.items():
        counts[bucket] = await _put_values(connection, bucket, directory / "kv" / f"{role}.jsonl")
    duplicates: dict[str, int] = {}
    for role, stream in resources.streams.items():
        origin = f"restore:{manifest['created_at']}:{role}"
        path = directory / "streams" / f"{role}.jsonl"
        counts[stream], duplicates[stream] = await _publish(connection, stream, path, origin)
    return {
        "restored_from": str(directory),
        "backup_created_at": manifest["created_at"],
        "target": public_url(settings.nats_url),
        "counts": counts,
        "already_stored": duplicates,
    }


async def _refuse_when_in_use(connection: Connection, runs_bucket: str) -> None:
    """Raise `RestoreTargetInUse` when the runs bucket of the target holds anything."""
    with translate_errors(f"reading bucket {runs_bucket}"):
        info = await connection.js.stream_info(f"KV_{runs_bucket}")
    if info.state.messages:
        raise RestoreTargetInUse(
            public_url(connection.settings.nats_url), runs_bucket, info.state.messages
        )


async def _put_objects(connection: Connection, store: str, directory: Path, role: str) -> int:
    """Put every object listed in `objects/<role>.jsonl` (an object is replaced); how many."""
    count = 0
    with translate_errors(f"writing object store {store}"):
        objects = await connection.js.object_store(bucket=store)
        for record in read_lines(directory / "objects" / f"{role}.jsonl"):
            meta = ObjectMeta(
                name=record["name"],
                description=record.get("description"),
                headers=record.get("headers"),
            )
            with _open(directory / record["file"]) as source:
                # A file: nats-py reads it a chunk at a time.
                await objects.put(record["name"], source, meta=meta)
            count += 1
    return count


def _open(path: Path) -> Any:
    """`path` opened for reading, or an `BackupError` saying the backup lacks it."""
    try:
        return path.open("rb")
    except OSError as exc:
        raise BackupError(f"the backup lacks an object's file: {exc}") from None


async def _put_values(connection: Connection, bucket: str, path: Path) -> int:
    """Put every key of `path` into `bucket`; how many."""
    count = 0
    kv = await connection.key_value(bucket)
    with translate_errors(f"writing bucket {bucket}"):
        for record in read_lines(path):
            await kv.put(record["key"], unb64(record["value"]))
            count += 1
    return count


async def _publish(connection: Connection, stream: str, path: Path, origin: str) -> tuple[int, int]:
    """Publish every message of `path` to `stream`; how many, and how many it already had."""
    count = duplicates = 0
    for record in read_lines(path):
        headers = {
            name: value
            for name, value in record["headers"].items()
            if not name.startswith(_DROPPED_HEADERS)
        }
        headers["Nats-Msg-Id"] = f"{origin}:{record['seq']}"
        if await _publish_one(connection, stream, record, headers):
            duplicates += 1
        count += 1
    return count, duplicates


async def _publish_one(
    connection: Connection, stream: str, record: dict[str, Any], headers: dict[str, str]
) -> bool:
    """Publish one message (again while its stream elects a leader); whether a duplicate."""
    js = connection.js
    data = unb64(record["data"])
    with translate_errors(f"publishing to stream {stream}"):
        ack = await connection.through_election(
            lambda: js.publish(record["subject"], data, stream=stream, headers=headers)
        )
    return bool(ack.duplicate)
