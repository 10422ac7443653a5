"""The layout of a backup directory: what a backup writes and a restore reads.

::

    DIR/manifest.json             written last: a directory without it is no (complete) backup
    DIR/kv/<role>.jsonl           {"key", "value" (base64)}: the latest value of every key
    DIR/streams/<role>.jsonl      {"seq", "subject", "headers", "data" (base64)}: every message
    DIR/objects/wheels.jsonl      {"name", "file", "size", "description", "headers"}
    DIR/objects/wheels/<n>        the object's bytes

Resources are filed under their role (`runs`, `dead_letters`, ...), not their name, so that a
restore writes each into the resource its own settings name for that role. Every file is read
and written a line (or a chunk) at a time: a backup never holds a bucket in memory.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from pyoco_server.domain.errors import BackupError
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.subjects import Subjects

FORMAT = "pyoco-server-backup"
VERSION = 1
MANIFEST = "manifest.json"

LEFT_OUT = {
    "workers": "worker records are rewritten by the running workers within seconds",
    "idempotency": "Idempotency-Key records only matter for the minutes after a submit",
    "logs": "task logs are not backed up; restored runs keep their snapshots, not their logs",
}
"""What a backup leaves out on purpose, and why (the manifest says so too)."""


@dataclasses.dataclass(frozen=True)
class Resources:
    """The resources a backup holds, by role: role → the name in the deployment's settings."""

    buckets: dict[str, str]
    streams: dict[str, str]
    objects: dict[str, str]

    @classmethod
    def of(cls, settings: Settings) -> Resources:
        """The roles and the names `settings` gives them."""
        return cls(
            buckets={
                "runs": settings.runs_kv_bucket,
                "api_keys": settings.auth_kv_bucket,
                "wheel_index": settings.wheel_index_kv_bucket,
                "workflows": settings.workflows_kv_bucket,
            },
            # The work queue last: a restored job finds its run (and its wheels) in place.
            streams={
                "dead_letters": settings.dlq_stream,
                "wheel_history": settings.wheel_history_stream,
                "work": settings.work_stream,
            },
            objects={"wheels": settings.wheel_store_bucket},
        )

    def names(self) -> dict[str, dict[str, str]]:
        """For the manifest."""
        return {"kv": self.buckets, "streams": self.streams, "objects": self.objects}


def public_url(nats_url: str) -> str:
    """`nats_url` (comma-separated servers) without user names, passwords or tokens."""
    servers = []
    for server in nats_url.split(","):
        parts = urlsplit(server.strip())
        host = parts.netloc.rsplit("@", 1)[-1]
        servers.append(urlunsplit(parts._replace(netloc=host)))
    return ",".join(servers)


def logs_stream(settings: Settings) -> str:
    """The task log stream's name (left out of backups)."""
    return Subjects.from_settings(settings).logs_stream


def b64(data: bytes) -> str:
    """`data` as text for a JSON line."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """The bytes `b64` turned into `text`."""
    return base64.b64decode(text, validate=True)


class Lines:
    """A JSON Lines file being written, one record at a time; counts what it wrote."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = path.open("xb")
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        """Append `record` as one line."""
        self._file.write(orjson.dumps(record) + b"\n")
        self.count += 1

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()


def read_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a JSON Lines file, one at a time (none when the file is missing)."""
    if not path.exists():
        return
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise BackupError(f"{path}:{number} is not a JSON line") from None
            yield record


def prepare(directory: Path) -> None:
    """Create `directory` for a backup; it must not exist or be empty."""
    try:
        if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
            raise BackupError(
                f"{directory} is not an empty directory; back up into a new directory"
            )
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot back up into {directory}: {exc}") from None


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest (last: its presence marks a complete backup)."""
    partial = directory / f"{MANIFEST}.partial"
    partial.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    partial.rename(directory / MANIFEST)


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of the backup in `directory`, checked to be one this version reads."""
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(
            f"{directory} holds no {MANIFEST}: not a backup, or one that did not finish"
        )
    manifest: dict[str, Any] = orjson.loads(path.read_bytes())
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(
            f"{path} is not a {FORMAT} version {VERSION} manifest "
            f"(format {manifest.get('format')!r}, version {manifest.get('version')!r})"
        )
    return manifest
