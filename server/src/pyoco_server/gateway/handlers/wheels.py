"""Operations of the `wheels` tag: the wheel registry."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from connexion import request
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse

from pyoco_server.domain.codec import WHEEL_HISTORY
from pyoco_server.domain.errors import InvalidInput, PayloadTooLarge
from pyoco_server.domain.records import WheelHistoryEvent
from pyoco_server.domain.wheels import parse_tags, parse_wheel_name
from pyoco_server.gateway.access import current_principal
from pyoco_server.gateway.responses import Reply, json_reply
from pyoco_server.services.wheels import Provenance, StoredWheel, Upload, WheelService

_CHUNK = 1024 * 1024


class WheelsApi:
    """Handlers of `/wheels*`; each method is the operationId of one operation."""

    def __init__(self, service: WheelService, max_bytes: int, scratch: Path | None = None) -> None:
        self._service = service
        self._max_bytes = max_bytes
        self._scratch = scratch

    async def list_wheels(self) -> Reply:
        """`GET /wheels`."""
        return json_reply([wheel_item(stored) for stored in await self._service.available()])

    async def upload_wheel(self, body: dict[str, Any], wheel: Any = None) -> Reply:
        """`POST /wheels` (multipart: the wheel file, tags, replace)."""
        if not isinstance(wheel, UploadFile) or not wheel.filename:
            raise InvalidInput("send the wheel file as form field 'wheel' (curl -F wheel=@x.whl)")
        filename = os.path.basename(wheel.filename)
        parse_wheel_name(filename)  # a bad name is refused before the file is copied
        tags = parse_tags(body.get("tags"))
        with tempfile.TemporaryDirectory(dir=self._scratch, prefix="pyoco-wheel-") as scratch:
            path = Path(scratch) / filename
            size, sha256 = await self._receive(wheel, path)
            stored = await self._service.upload(
                Upload(filename, path, size, sha256, tags, _flag(body.get("replace", True))),
                provenance(),
            )
        return json_reply(wheel_item(stored), 201)

    async def _receive(self, wheel: UploadFile, path: Path) -> tuple[int, str]:
        """Copy the upload to `path`, counting and hashing it (413 over the limit)."""
        digest = hashlib.sha256()
        size = 0
        with path.open("wb") as sink:
            while chunk := await wheel.read(_CHUNK):
                size += len(chunk)
                if size > self._max_bytes:
                    raise PayloadTooLarge(
                        "the wheel", size, self._max_bytes, "PYOCO_WHEEL_MAX_BYTES"
                    )
                digest.update(chunk)
                sink.write(chunk)
        return size, digest.hexdigest()

    async def download_wheel(self, wheel_name: str) -> FileResponse:
        """`GET /wheels/{wheel_name}`: the file, streamed from a temporary copy.

        A name no stored wheel has, a malformed one included, is a 404.
        """
        scratch = tempfile.mkdtemp(dir=self._scratch, prefix="pyoco-wheel-")
        path = Path(scratch) / "wheel"
        cleanup = BackgroundTask(_remove, Path(scratch))
        try:
            await self._service.fetch(wheel_name, path)
        except BaseException:
            await cleanup()
            raise
        return FileResponse(
            path,
            media_type="application/octet-stream",
            filename=wheel_name,
            background=cleanup,
        )

    async def delete_wheel(self, wheel_name: str) -> Reply:
        """`DELETE /wheels/{wheel_name}`."""
        deleted, current = await self._service.delete(wheel_name, provenance())
        return json_reply(
            {
                "name": wheel_name,
                "deleted": True,
                "distribution": deleted.distribution,
                "version": deleted.version.version,
                "current_version": current,
            }
        )

    async def list_wheel_history(
        self, limit: int = 100, wheel_name: str | None = None, action: str | None = None
    ) -> Reply:
        """`GET /wheels/history` (a name no wheel can have has no events)."""
        events = await self._service.history(limit=limit, wheel_name=wheel_name, action=action)
        return json_reply([_history_item(event) for event in events])


def wheel_item(stored: StoredWheel) -> dict[str, Any]:
    """openapi.yaml `Wheel`."""
    version = stored.version
    return {
        "name": version.wheel,
        "distribution": stored.distribution,
        "version": version.version,
        "sha256_hex": version.sha256,
        "digest": "SHA-256=" + _b64(bytes.fromhex(version.sha256)),
        "size_bytes": version.size_bytes,
        "tags": list(version.tags),
        "modules": list(version.modules),
        "requires_dist": list(version.requires_dist),
        "requires_python": version.requires_python,
        "uploaded_at": version.uploaded_at,
        "uploaded_by": version.uploaded_by,
    }


def _history_item(event: WheelHistoryEvent) -> dict[str, Any]:
    return WHEEL_HISTORY.to_dict(event)


def provenance() -> Provenance:
    """Who is asking and from where, for the record."""
    principal = current_principal()
    headers = request.headers
    client = request.client
    address = client.host if client and client.host else None
    source = {
        "remote_addr": address,
        "x_forwarded_for": headers.get("x-forwarded-for"),
        "x_real_ip": headers.get("x-real-ip"),
        "user_agent": headers.get("user-agent"),
    }
    if principal is None:
        return Provenance(by=f"address:{address}" if address else None, source=source)
    actor = {"tenant_id": principal.tenant_id, "api_key_id": principal.key_id}
    return Provenance(by=principal.requested_by, actor=actor, source=source)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("false", "0", "no", "off")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
