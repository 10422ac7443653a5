"""Submitted flow.yaml files in memory (`WorkflowStore` on a memory bucket)."""

from __future__ import annotations

from pyoco_server.memory._kv import MemoryBucket


class MemoryWorkflows:
    """`WorkflowStore` on a memory bucket; `puts` counts the writes, for tests."""

    def __init__(self, bucket: MemoryBucket) -> None:
        self.bucket = bucket
        self.puts = 0

    async def put(self, sha256: str, raw: bytes) -> None:
        """Store the file (unconditionally: the key is its content's hash)."""
        self.bucket.get(sha256)  # raises while the link is cut, as every port call does
        self.bucket.put(sha256, raw)
        self.puts += 1

    async def get(self, sha256: str) -> bytes | None:
        """The file's bytes, or None."""
        entry = self.bucket.get(sha256)
        return entry.value if entry is not None else None

    def forget(self, sha256: str) -> None:
        """Drop a file, as the bucket's max age would."""
        self.bucket.delete(sha256)
