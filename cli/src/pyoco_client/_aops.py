"""The operators' side of `AsyncClient`: workers, dead letters, metrics, wheels, health.

`AsyncClient` inherits these methods; they send their requests with its `_run`. Each behaves
and raises as its `Client` namesake (see `_ops`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path
from typing import TypeVar

from pyoco_client import _calls as calls
from pyoco_client._calls import Call, JsonObject

T = TypeVar("T")

JsonList = list[JsonObject]


class AsyncOps:
    """Operations on the deployment rather than on runs; the base of `AsyncClient`."""

    async def workers(
        self,
        *,
        scope: str = "active",
        state: str | None = None,
        include_hidden: bool = False,
        limit: int = 100,
    ) -> JsonList:
        """The worker registry (see `Client.workers`)."""
        return await self._run(calls.workers(scope, state, include_hidden, limit))

    async def hide_worker(self, worker_id: str) -> JsonObject:
        """Hide a worker (see `Client.hide_worker`)."""
        return await self._run(calls.set_worker_hidden(worker_id, True))

    async def unhide_worker(self, worker_id: str) -> JsonObject:
        """Show a hidden worker again (see `Client.unhide_worker`)."""
        return await self._run(calls.set_worker_hidden(worker_id, False))

    async def dead_letters(
        self, *, reason: str | None = None, tag: str | None = None, page_size: int = 50
    ) -> AsyncIterator[JsonObject]:
        """Every dead letter, newest first, a page at a time (see `Client.dead_letters`)."""
        cursor = None
        while True:
            page = await self._run(calls.dead_letters_page(reason, tag, page_size, cursor))
            for item in page["items"]:
                yield item
            if (cursor := page["next_cursor"]) is None:
                return

    async def dead_letters_page(
        self,
        *,
        reason: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JsonObject:
        """One page of dead letters (see `Client.dead_letters_page`)."""
        return await self._run(calls.dead_letters_page(reason, tag, limit, cursor))

    async def redrive(self, dead_letter_id: str) -> JsonObject:
        """Queue a dead letter's run again (see `Client.redrive`)."""
        return await self._run(calls.redrive(dead_letter_id))

    async def metrics(self) -> str:
        """The gateway's Prometheus metrics, as text (see `Client.metrics`)."""
        return await self._run(calls.metrics())

    async def wheels(self) -> JsonList:
        """The wheels in the registry (see `Client.wheels`)."""
        return await self._run(calls.wheels())

    async def wheel_history(
        self, *, limit: int = 100, wheel_name: str | None = None, action: str | None = None
    ) -> JsonList:
        """Uploads and deletions, newest first (see `Client.wheel_history`)."""
        return await self._run(calls.wheel_history(limit, wheel_name, action))

    async def upload_wheel(
        self, path: str | Path, *, tags: str | None = None, replace: bool = True
    ) -> JsonObject:
        """Upload the wheel file at `path` (see `Client.upload_wheel`).

        The file is read whole (in a thread, so the event loop does not wait on the disk) and
        then sent.
        """
        wheel = Path(path)
        payload = await asyncio.to_thread(wheel.read_bytes)
        call = calls.wheel_upload(BytesIO(payload), wheel.name, tags, replace)
        return await self._run(call)

    async def delete_wheel(self, name: str) -> JsonObject:
        """Delete a wheel version (see `Client.delete_wheel`)."""
        return await self._run(calls.wheel_delete(name))

    async def health(self) -> JsonObject:
        """The gateway's liveness (see `Client.health`)."""
        return await self._run(calls.health())

    async def _run(self, call: Call[T]) -> T:
        """Send `call`; `AsyncClient` provides it."""
        raise NotImplementedError
