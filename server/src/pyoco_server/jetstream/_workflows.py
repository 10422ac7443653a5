"""`WorkflowStore` on the `pyoco_workflows` key-value bucket (asyncapi.yaml channel `workflows`)."""

from __future__ import annotations

import nats.js.errors
from nats.js.kv import KeyValue

from pyoco_server.jetstream._capacity import refused_when_full
from pyoco_server.jetstream._connection import Connection, translate_errors


class NatsWorkflows:
    """flow.yaml files under the SHA-256 of their bytes.

    A put is unconditional: the key is the content's hash, so two gateways storing one file
    concurrently store the same bytes, and storing it again restarts the bucket's max age for
    it (runs submitted with a file long after its first use can still be run again).
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._bucket = connection.settings.workflows_kv_bucket

    async def _store(self) -> KeyValue:
        return await self._connection.key_value(self._bucket)

    async def put(self, sha256: str, raw: bytes) -> None:
        """Store the file (`QueueFull` when the bucket is at PYOCO_WORKFLOWS_KV_MAX_BYTES)."""
        kv = await self._store()
        with (
            translate_errors("storing the flow.yaml"),
            refused_when_full("the workflows bucket", "PYOCO_WORKFLOWS_KV_MAX_BYTES"),
        ):
            await kv.put(sha256, raw)

    async def get(self, sha256: str) -> bytes | None:
        """The file's bytes, or None when it is not stored (never, deleted or expired)."""
        kv = await self._store()
        with translate_errors("reading the flow.yaml"):
            try:
                entry = await kv.get(sha256)
            except nats.js.errors.KeyNotFoundError:
                return None
        return bytes(entry.value) if entry.value else None
