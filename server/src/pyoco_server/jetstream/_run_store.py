"""`RunStore` on the `pyoco_runs` key-value bucket."""

from __future__ import annotations

import re

import nats.js.errors
from nats.js.kv import KeyValue

from pyoco_server.domain.codec import SNAPSHOT, encode_snapshot
from pyoco_server.domain.errors import RevisionConflict
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.jetstream._capacity import refused_when_full
from pyoco_server.jetstream._connection import Connection, translate_errors
from pyoco_server.jetstream._replies import direct_get
from pyoco_server.ports import StoredSnapshot

_EXPECTED_LAST = "Nats-Expected-Last-Subject-Sequence"
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_=-]+")
"""Keys read by `direct_get`; any other key goes through nats-py, which validates it."""
_HISTORY_READS = 3
"""Reads of a key's history at most, when one comes back short of the latest revision."""
_WRONG_LAST_SEQUENCE = (10071, 10164)
"""JetStream's error codes for a compare-and-set whose expected revision is not the last."""


class NatsRunStore:
    """Run snapshots in JetStream KV; every write is a compare-and-set on the revision."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._bucket = connection.settings.runs_kv_bucket
        self._max_bytes = connection.settings.max_run_snapshot_bytes
        self._prefix = f"$KV.{self._bucket}."

    async def _store(self) -> KeyValue:
        return await self._connection.key_value(self._bucket)

    async def create(self, snapshot: RunSnapshot) -> int:
        """Store a new run's first snapshot; `RevisionConflict` if the id exists.

        A compare-and-set expecting no revision. When that is refused, one read tells a stored
        run (the conflict) from a deletion marker, after which the id may be stored again, as
        nats-py's `KeyValue.create` does.
        """
        data = encode_snapshot(snapshot, self._max_bytes, self._connection.nc.max_payload)
        with (
            translate_errors("storing the run"),
            refused_when_full("the runs bucket", "PYOCO_RUNS_KV_MAX_BYTES"),
        ):
            try:
                return await self._write(snapshot.run_id, data, 0)
            except RevisionConflict:
                pass
            kv = await self._store()
            try:
                await kv.get(snapshot.run_id)
            except nats.js.errors.KeyNotFoundError as missing:  # deleted, or purged meanwhile
                last = int(missing.entry.revision) if missing.entry is not None else 0
                return await self._write(snapshot.run_id, data, last)
            raise RevisionConflict(snapshot.run_id)

    async def get(self, run_id: str) -> StoredSnapshot | None:
        """The latest snapshot, or None when the run does not exist (or was deleted)."""
        kv = await self._store()
        with translate_errors("reading the run"):
            if kv._direct and _PLAIN_KEY.fullmatch(run_id):
                value, revision = await direct_get(
                    self._connection.replies,
                    kv._js._prefix,
                    kv._stream,
                    self._prefix + run_id,
                    self._connection.settings.nats_request_timeout_sec,
                )
            else:
                try:
                    entry = await kv.get(run_id)
                except nats.js.errors.KeyNotFoundError:
                    return None
                value, revision = entry.value, int(entry.revision or 0)
        if not value:
            return None
        return StoredSnapshot(SNAPSHOT.decode(value), revision)

    async def update(self, snapshot: RunSnapshot, revision: int) -> int:
        """Replace the snapshot if it is still at `revision`; `RevisionConflict` otherwise."""
        data = encode_snapshot(snapshot, self._max_bytes, self._connection.nc.max_payload)
        with translate_errors("updating the run"):
            return await self._write(snapshot.run_id, data, revision)

    async def _write(self, run_id: str, data: bytes, revision: int) -> int:
        """Put `data` if the key's last revision is `revision` (0: none); its new revision.

        The compare-and-set nats-py's `KeyValue.update` makes, on `Connection.publish_acked`.
        """
        headers = {_EXPECTED_LAST: str(revision)}
        try:
            return await self._connection.publish_acked(self._prefix + run_id, data, headers)
        except nats.js.errors.APIError as exc:
            if exc.err_code in _WRONG_LAST_SEQUENCE:
                raise RevisionConflict(run_id) from None
            raise

    async def history(self, run_id: str) -> list[StoredSnapshot]:
        """The kept revisions of a run's snapshot, oldest first (deletions left out).

        nats-py's `KeyValue.history` can come back short: it watches the key, then asks for the
        watch's consumer info, and when the server has delivered every message before the
        client counted one, it ends the history before the first entry (seen under load as a
        resuming watch refused with 404 for a stored run). So the latest revision is read
        first, and a history that does not reach it is read again, `_HISTORY_READS` times at
        most.
        """
        kv = await self._store()
        latest = await self.get(run_id)
        entries: list[KeyValue.Entry] = []
        for _ in range(_HISTORY_READS):
            with translate_errors("reading the run's history"):
                try:
                    entries = await kv.history(run_id)
                except nats.js.errors.NoKeysError:
                    entries = []
            if latest is None or (entries and int(entries[-1].revision or 0) >= latest.revision):
                break
        return [
            StoredSnapshot(SNAPSHOT.decode(entry.value), int(entry.revision or 0))
            for entry in entries
            if entry.value and entry.operation is None
        ]

    async def delete(self, run_id: str) -> None:
        """Remove a run's snapshot (its history included)."""
        kv = await self._store()
        with translate_errors("deleting the run"):
            await kv.purge(run_id)
