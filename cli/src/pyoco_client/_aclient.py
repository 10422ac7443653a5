"""`AsyncClient`: `Client` for asyncio, over the generated SDK's `asyncio_detailed` functions.

Requests, answers and the watch's reconnection policy are shared with `Client` (`_calls`,
`_sse`); only the awaiting differs. Each method behaves and raises as its `Client` namesake.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import httpx

from pyoco_client import _calls as calls
from pyoco_client._aops import AsyncOps
from pyoco_client._calls import Call, JsonObject
from pyoco_client._errors import ConnectionFailed, ProblemError, TimedOut
from pyoco_client._logs import LogEvent, LogSession, afollowed, logs_page
from pyoco_client._options import RunFilters, SubmitOptions
from pyoco_client._sse import WatchEvent, WatchSession, terminal_snapshot
from pyoco_client._transport import async_foreign_error, sdk_client, stream_timeout, translated

T = TypeVar("T")


class AsyncClient(AsyncOps):
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
        timeout_sec: float | None = None,
        retry: Mapping[str, Any] | None = None,
    ) -> JsonObject:
        """Submit a run of a flow the workers know by name (see `Client.submit`)."""
        options = SubmitOptions(tag, tags, idempotency_key, requires, timeout_sec, retry)
        return await self._run(calls.submit(flow_name, params, options))

    async def submit_yaml(
        self,
        workflow: bytes,
        flow_name: str,
        tag: str | None = None,
        params: Mapping[str, Any] | None = None,
        file_name: str = "flow.yaml",
        idempotency_key: str | None = None,
        requires: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        timeout_sec: float | None = None,
        retry: Mapping[str, Any] | None = None,
    ) -> JsonObject:
        """Upload a flow.yaml and submit a run of it (see `Client.submit_yaml`)."""
        options = SubmitOptions(tag, tags, idempotency_key, requires, timeout_sec, retry)
        return await self._run(calls.submit_yaml(workflow, flow_name, params, file_name, options))

    async def rerun(
        self,
        run_id: str,
        params: Mapping[str, Any] | None = None,
        tag: str | None = None,
        idempotency_key: str | None = None,
        timeout_sec: float | None = None,
    ) -> JsonObject:
        """Run a run again, as a new run (see `Client.rerun`)."""
        return await self._run(calls.rerun(run_id, params, tag, idempotency_key, timeout_sec))

    async def resolve_run_id(self, run_id: str) -> str:
        """The whole id of the run whose id is or starts with `run_id` (`Client.resolve_run_id`)."""
        if not calls.needs_lookup(run_id):
            return run_id
        return await self._run(calls.resolve_run_id(run_id))

    async def get(self, run_id: str, records: bool = False) -> JsonObject:
        """The latest snapshot of a run (see `Client.get`)."""
        return await self._run(calls.get(run_id, records))

    async def tasks(self, run_id: str) -> JsonObject:
        """The per-task states and records of a run (see `Client.tasks`)."""
        return await self._run(calls.tasks(run_id))

    async def list(
        self, *, page_size: int = 50, **filters: Unpack[RunFilters]
    ) -> AsyncIterator[JsonObject]:
        """Every run that matches the filters, newest first, a page at a time (`Client.list`)."""
        cursor = None
        while True:
            page = await self._run(calls.runs_page(filters, page_size, cursor))
            for item in page["items"]:
                yield item
            if (cursor := page["next_cursor"]) is None:
                return

    async def list_page(
        self, *, limit: int = 50, cursor: str | None = None, **filters: Unpack[RunFilters]
    ) -> JsonObject:
        """One page of runs (see `Client.list_page`)."""
        return await self._run(calls.runs_page(filters, limit, cursor))

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

    async def logs(
        self, run_id: str, task: str | None = None, after: int = 0, limit: int = 200
    ) -> JsonObject:
        """A page of what a run's tasks printed and logged (see `Client.logs`)."""
        return await self._run(logs_page(run_id, task, after, limit))

    async def follow_logs(
        self,
        run_id: str,
        task: str | None = None,
        after: int = 0,
        *,
        timeout: float | None = None,
    ) -> AsyncGenerator[LogEvent, None]:
        """Follow what a run's tasks print and log, until the run ends (`Client.follow_logs`)."""
        session = LogSession(self.base_url, run_id, task=task, after=after, timeout=timeout)
        http = self._sdk.get_async_httpx_client()
        async for event in afollowed(http, session, self.base_url, self.timeout):
            yield event

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
