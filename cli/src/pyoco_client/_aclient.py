"""`AsyncClient`: `Client` for asyncio, over the generated SDK's `asyncio_detailed` functions.

Requests, answers and the watch's reconnection policy are shared with `Client` (`_calls`,
`_sse`); only the awaiting differs. Each method behaves and raises as its `Client` namesake.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from io import BytesIO
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from pyoco_client import _calls as calls
from pyoco_client._calls import Call, JsonObject, RunQuery
from pyoco_client._errors import ConnectionFailed, ProblemError, TimedOut
from pyoco_client._sse import WatchEvent, WatchSession, terminal_snapshot
from pyoco_client._transport import async_foreign_error, sdk_client, stream_timeout, translated

T = TypeVar("T")

JsonList = list[JsonObject]


class AsyncClient:
    """A pyoco-server's HTTP API for asyncio, with JSON dicts in and out.

    Use it as an async context manager, or await `aclose()`::

        async with AsyncClient("http://127.0.0.1:8000") as client:
            run_id = (await client.submit("main", params={"x": 1}))["run_id"]
            print((await client.wait(run_id, timeout=60))["status"])

    The async iterators (`list`, `watch`, `dead_letters`) close their connection when the loop
    over them ends; to stop one early and close it at once, wrap it in
    `contextlib.aclosing`. Errors are those of `Client`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        api_key_header: str = "X-API-Key",
        timeout: float = 30.0,
    ) -> None:
        """Prepare a client; nothing is sent until the first call (arguments as `Client`'s)."""
        self.base_url = base_url
        self.timeout = timeout
        self._sdk = sdk_client(base_url, api_key, api_key_header, timeout, async_foreign_error)

    async def submit(
        self,
        flow_name: str,
        params: Mapping[str, Any] | None = None,
        tag: str | None = None,
        tags: Sequence[str] | None = None,
        idempotency_key: str | None = None,
        requires: Sequence[str] | None = None,
    ) -> JsonObject:
        """Submit a run of a flow the workers know by name (see `Client.submit`)."""
        call = calls.submit(flow_name, params, tag, tags, idempotency_key, requires)
        return await self._run(call)

    async def submit_yaml(
        self,
        workflow: bytes,
        flow_name: str,
        tag: str | None = None,
        params: Mapping[str, Any] | None = None,
        file_name: str = "flow.yaml",
        idempotency_key: str | None = None,
        requires: Sequence[str] | None = None,
    ) -> JsonObject:
        """Upload a flow.yaml and submit a run of it (see `Client.submit_yaml`)."""
        call = calls.submit_yaml(
            workflow, flow_name, tag, params, file_name, idempotency_key, requires
        )
        return await self._run(call)

    async def get(self, run_id: str, records: bool = False) -> JsonObject:
        """The latest snapshot of a run (see `Client.get`)."""
        return await self._run(calls.get(run_id, records))

    async def tasks(self, run_id: str) -> JsonObject:
        """The per-task states and records of a run (see `Client.tasks`)."""
        return await self._run(calls.tasks(run_id))

    async def list(
        self,
        *,
        status: str | None = None,
        flow: str | None = None,
        tag: str | None = None,
        updated_after: float | None = None,
        workflow_yaml_sha256: str | None = None,
        page_size: int = 50,
    ) -> AsyncIterator[JsonObject]:
        """Every run that matches the filters, newest first, a page at a time (`Client.list`)."""
        query = RunQuery(status, flow, tag, updated_after, workflow_yaml_sha256)
        cursor = None
        while True:
            page = await self._run(calls.runs_page(query, page_size, cursor))
            for item in page["items"]:
                yield item
            if (cursor := page["next_cursor"]) is None:
                return

    async def list_page(
        self,
        *,
        status: str | None = None,
        flow: str | None = None,
        tag: str | None = None,
        updated_after: float | None = None,
        workflow_yaml_sha256: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JsonObject:
        """One page of runs (see `Client.list_page`)."""
        query = RunQuery(status, flow, tag, updated_after, workflow_yaml_sha256)
        return await self._run(calls.runs_page(query, limit, cursor))

    async def watch(
        self,
        run_id: str,
        *,
        records: bool = False,
        last_event_id: str | None = None,
        timeout: float | None = None,
    ) -> AsyncGenerator[WatchEvent, None]:
        """Follow a run as it changes, until it ends (see `Client.watch`)."""
        session = WatchSession(
            self.base_url, run_id, records=records, last_event_id=last_event_id, timeout=timeout
        )
        http = self._sdk.get_async_httpx_client()
        while not session.done:
            request = session.request()
            try:
                with translated(self.base_url, self.timeout):
                    async with http.stream(
                        **request, timeout=stream_timeout(self.timeout)
                    ) as response:
                        session.opened(response.status_code, await _error_body(response))
                        async for line in response.aiter_lines():
                            if (event := session.feed(line)) is not None:
                                yield event
                            if session.done:
                                break
            except (ConnectionFailed, TimedOut, ProblemError) as exc:
                delay = session.failed(exc)
            else:
                delay = session.ended()
            if delay:
                await asyncio.sleep(delay)

    async def wait(
        self, run_id: str, *, timeout: float | None = None, records: bool = False
    ) -> JsonObject:
        """Wait for a run to end, following its events; its terminal snapshot (`Client.wait`)."""
        last = None
        async for event in self.watch(run_id, records=records, timeout=timeout):
            last = event
        return terminal_snapshot(last)

    async def cancel(self, run_id: str, reason: str | None = None) -> JsonObject:
        """Ask for a run to be cancelled (see `Client.cancel`)."""
        return await self._run(calls.cancel(run_id, reason))

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

    async def aclose(self) -> None:
        """Release the connections; the client must not be used afterwards."""
        await self._sdk.get_async_httpx_client().aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, call: Call[T]) -> T:
        """Send `call` with the SDK's asyncio function; its result, or the error it stands for."""
        with translated(self.base_url, self.timeout):
            response = await call.operation.asyncio_detailed(
                *call.args, client=self._sdk, **call.kwargs
            )
            return call.read(response)


async def _error_body(response: httpx.Response) -> bytes:
    """The body of an error answer (read now, it is a stream); nothing for a success."""
    return await response.aread() if response.is_error else b""
