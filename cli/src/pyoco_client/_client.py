"""`Client`: the pyoco-server HTTP API as plain JSON dicts, over the generated SDK (sync).

The requests and the reading of answers live in `_calls` (shared with `AsyncClient`); this
class runs them with the SDK's sync functions. The one operation the SDK cannot do, following
a run's event stream, goes through the SDK's own httpx client, driven by `_sse.WatchSession`.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from pyoco_client import _calls as calls
from pyoco_client._calls import Call, JsonObject, RunQuery
from pyoco_client._errors import ConnectionFailed, ProblemError, TimedOut
from pyoco_client._sse import WatchEvent, WatchSession, terminal_snapshot
from pyoco_client._transport import foreign_error, sdk_client, stream_timeout, translated

T = TypeVar("T")

JsonList = list[JsonObject]


class Client:
    """A pyoco-server's HTTP API, with JSON dicts in and out.

    Use it as a context manager, or call `close()`, to release its connections::

        with Client("http://127.0.0.1:8000") as client:
            run_id = client.submit("main", params={"x": 1})["run_id"]
            print(client.wait(run_id, timeout=60)["status"])

    Every method raises `ProblemError` when the server answers with an HTTP error (`RunNotFound`
    for an unknown run), `ConnectionFailed` when it cannot be reached, `TimedOut` when it does
    not answer within `timeout`, and `ClientError` when its answer does not follow the API.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        api_key_header: str = "X-API-Key",
        timeout: float = 30.0,
    ) -> None:
        """Prepare a client; nothing is sent until the first call.

        Args:
            base_url: URL of the gateway, such as "http://127.0.0.1:8000".
            api_key: API key sent with every request, or None to send none.
            api_key_header: Name of the header that carries the API key.
            timeout: Seconds to wait for the server to connect and to answer a request. Event
                streams (`watch`, `wait`) use it to connect only: a run may stay quiet longer.
        """
        self.base_url = base_url
        self.timeout = timeout
        self._sdk = sdk_client(base_url, api_key, api_key_header, timeout, foreign_error)

    def submit(
        self,
        flow_name: str,
        params: Mapping[str, Any] | None = None,
        tag: str | None = None,
        tags: Sequence[str] | None = None,
        idempotency_key: str | None = None,
        requires: Sequence[str] | None = None,
    ) -> JsonObject:
        """Submit a run of a flow the workers know by name (`POST /runs`).

        Args:
            flow_name: Name of the flow, resolved by the workers' flow resolver.
            params: Parameters passed to the flow's tasks by name.
            tag: Routing tag of the run; None for the server's default tag.
            tags: Metadata labels stored with the run.
            idempotency_key: A key of your choosing: submitting again with the same key returns
                the run the first submit created instead of creating another.
            requires: Registry wheel versions to run with (`["my_ext==0.1.0"]`) instead of the
                newest ones for the tag.

        Returns:
            The accepted run: `run_id`, `status` (PENDING), `flow_name` and `tag`.

        Raises:
            ValueError: `params` holds NaN or infinity, which JSON cannot carry.
            TypeError: `params` holds a value that is not JSON (a set, a date).
        """
        return self._run(calls.submit(flow_name, params, tag, tags, idempotency_key, requires))

    def submit_yaml(
        self,
        workflow: bytes,
        flow_name: str,
        tag: str | None = None,
        params: Mapping[str, Any] | None = None,
        file_name: str = "flow.yaml",
        idempotency_key: str | None = None,
        requires: Sequence[str] | None = None,
    ) -> JsonObject:
        """Upload a single-flow flow.yaml and submit a run of it (`POST /runs/yaml`).

        Args:
            workflow: The content of the flow.yaml file.
            flow_name: Name of the flow to run.
            tag: Routing tag of the run; None for the server's default tag.
            params: Values overriding the file's `flow.defaults`, key by key.
            file_name: File name sent with the upload.
            idempotency_key: As for `submit`.
            requires: As for `submit`.

        Returns:
            The accepted run: `run_id`, `status` (PENDING), `flow_name` and `tag`.

        Raises:
            ValueError: `params` holds NaN or infinity, which JSON cannot carry.
            TypeError: `params` holds a value that is not JSON (a set, a date).
        """
        call = calls.submit_yaml(
            workflow, flow_name, tag, params, file_name, idempotency_key, requires
        )
        return self._run(call)

    def get(self, run_id: str, records: bool = False) -> JsonObject:
        """The latest snapshot of a run (`GET /runs/{run_id}`).

        Args:
            run_id: The id returned by a submit call.
            records: Include the per-task records (`task_records`).

        Raises:
            RunNotFound: The server has no run with this id.
        """
        return self._run(calls.get(run_id, records))

    def tasks(self, run_id: str) -> JsonObject:
        """The per-task states and records of a run (`GET /runs/{run_id}/tasks`).

        Raises:
            RunNotFound: The server has no run with this id.
        """
        return self._run(calls.tasks(run_id))

    def list(
        self,
        *,
        status: str | None = None,
        flow: str | None = None,
        tag: str | None = None,
        updated_after: float | None = None,
        workflow_yaml_sha256: str | None = None,
        page_size: int = 50,
    ) -> Iterator[JsonObject]:
        """Every run that matches the filters, newest first, fetched a page at a time.

        The pages follow `next_cursor`, so no run is skipped or repeated while runs change
        state; runs submitted after the first page are not included. Filters left None are
        not applied.

        Args:
            status: Only runs in this status.
            flow: Only runs of this flow name.
            tag: Only runs routed to this tag.
            updated_after: Only runs changed after this Unix time.
            workflow_yaml_sha256: Only runs of the flow.yaml with this SHA-256 (hex).
            page_size: Runs fetched per request (1 to 200).

        Yields:
            Each run's summary (`GET /runs` items).
        """
        query = RunQuery(status, flow, tag, updated_after, workflow_yaml_sha256)
        cursor = None
        while True:
            page = self._run(calls.runs_page(query, page_size, cursor))
            yield from page["items"]
            if (cursor := page["next_cursor"]) is None:
                return

    def list_page(
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
        """One page of runs (`GET /runs`): `{"items": [...], "next_cursor": str | None}`.

        Args are those of `list`, with `limit` runs at most and `cursor`, the `next_cursor` of
        the previous page.
        """
        query = RunQuery(status, flow, tag, updated_after, workflow_yaml_sha256)
        return self._run(calls.runs_page(query, limit, cursor))

    def watch(
        self,
        run_id: str,
        *,
        records: bool = False,
        last_event_id: str | None = None,
        timeout: float | None = None,
    ) -> Generator[WatchEvent, None, None]:
        """Follow a run as it changes (`GET /runs/{run_id}/watch`), until it ends.

        Yields the current snapshot (or, with `last_event_id`, every one after that event), then
        each change as the server pushes it, and a heartbeat during silences; stops after the
        terminal snapshot. There is no read timeout between events, however quiet the run. A
        dropped connection is reopened with `Last-Event-ID`, so no change is lost, for as long
        as the server comes back within 30 seconds.

        Args:
            run_id: The id returned by a submit call.
            records: Include the per-task records in the snapshots.
            last_event_id: Resume after this event (the `id` of a `WatchEvent`).
            timeout: Give up after this many seconds; None to follow the run however long.

        Raises:
            RunNotFound: The server has no run with this id.
            TimedOut: The run did not end within `timeout`.
            ConnectionFailed: The server could not be reached, or stayed away after a drop.
        """
        session = WatchSession(
            self.base_url, run_id, records=records, last_event_id=last_event_id, timeout=timeout
        )
        http = self._sdk.get_httpx_client()
        while not session.done:
            request = session.request()
            try:
                with (
                    translated(self.base_url, self.timeout),
                    http.stream(**request, timeout=stream_timeout(self.timeout)) as response,
                ):
                    session.opened(response.status_code, _error_body(response))
                    for line in response.iter_lines():
                        if (event := session.feed(line)) is not None:
                            yield event
                        if session.done:
                            break
            except (ConnectionFailed, TimedOut, ProblemError) as exc:
                delay = session.failed(exc)
            else:
                delay = session.ended()
            if delay:
                time.sleep(delay)

    def wait(
        self, run_id: str, *, timeout: float | None = None, records: bool = False
    ) -> JsonObject:
        """Wait for a run to end, following its events (no polling); its terminal snapshot.

        Args:
            run_id: The id returned by a submit call.
            timeout: Give up after this many seconds; None to wait however long it takes.
            records: Include the per-task records (and so the tasks' outputs).

        Raises:
            RunNotFound: The server has no run with this id.
            TimedOut: The run did not end within `timeout`.
        """
        last = None
        for event in self.watch(run_id, records=records, timeout=timeout):
            last = event
        return terminal_snapshot(last)

    def cancel(self, run_id: str, reason: str | None = None) -> JsonObject:
        """Ask for a run to be cancelled (`POST /runs/{run_id}/cancel`); its snapshot after.

        A PENDING run is CANCELLED at once, a RUNNING one CANCELLING until its worker has
        stopped it (`wait` for the end); an ended run is returned unchanged.

        Raises:
            RunNotFound: The server has no run with this id.
        """
        return self._run(calls.cancel(run_id, reason))

    def workers(
        self,
        *,
        scope: str = "active",
        state: str | None = None,
        include_hidden: bool = False,
        limit: int = 100,
    ) -> JsonList:
        """The worker registry (`GET /workers`, admin keys only), newest `last_seen_at` first.

        Args:
            scope: "active" for RUNNING and IDLE workers, "all" for every record kept.
            state: Only workers in this state (RUNNING, IDLE, STOPPED_GRACEFUL, DISCONNECTED).
            include_hidden: Include hidden workers.
            limit: At most this many workers (1 to 500).
        """
        return self._run(calls.workers(scope, state, include_hidden, limit))

    def hide_worker(self, worker_id: str) -> JsonObject:
        """Hide a worker from `workers` (kept across its restarts); its record after."""
        return self._run(calls.set_worker_hidden(worker_id, True))

    def unhide_worker(self, worker_id: str) -> JsonObject:
        """Show a hidden worker in `workers` again; its record after."""
        return self._run(calls.set_worker_hidden(worker_id, False))

    def dead_letters(
        self, *, reason: str | None = None, tag: str | None = None, page_size: int = 50
    ) -> Iterator[JsonObject]:
        """Every dead letter (`GET /dlq`, admin keys only), newest first, a page at a time.

        Args:
            reason: Only dead letters of this reason (`flow_not_found`, ...).
            tag: Only dead letters of this tag.
            page_size: Records fetched per request (1 to 200).
        """
        cursor = None
        while True:
            page = self._run(calls.dead_letters_page(reason, tag, page_size, cursor))
            yield from page["items"]
            if (cursor := page["next_cursor"]) is None:
                return

    def dead_letters_page(
        self,
        *,
        reason: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JsonObject:
        """One page of dead letters: `{"items": [...], "next_cursor": str | None}`."""
        return self._run(calls.dead_letters_page(reason, tag, limit, cursor))

    def redrive(self, dead_letter_id: str) -> JsonObject:
        """Queue a dead letter's run again (`POST /dlq/{id}/redrive`); the accepted run."""
        return self._run(calls.redrive(dead_letter_id))

    def metrics(self) -> str:
        """The gateway's Prometheus metrics, as text (`GET /metrics`, admin keys only)."""
        return self._run(calls.metrics())

    def wheels(self) -> JsonList:
        """The wheels in the registry (`GET /wheels`), by name."""
        return self._run(calls.wheels())

    def wheel_history(
        self, *, limit: int = 100, wheel_name: str | None = None, action: str | None = None
    ) -> JsonList:
        """Uploads and deletions, newest first (`GET /wheels/history`, admin keys only)."""
        return self._run(calls.wheel_history(limit, wheel_name, action))

    def upload_wheel(
        self, path: str | Path, *, tags: str | None = None, replace: bool = True
    ) -> JsonObject:
        """Upload the wheel file at `path` (`POST /wheels`, admin keys only); the stored wheel.

        Args:
            path: The wheel file (its name is the wheel's name).
            tags: Comma-separated tags limiting which workers and runs get it (none: all).
            replace: False refuses the upload when the distribution already has a version.
        """
        wheel = Path(path)
        with wheel.open("rb") as payload:
            return self._run(calls.wheel_upload(payload, wheel.name, tags, replace))

    def delete_wheel(self, name: str) -> JsonObject:
        """Delete a wheel version (`DELETE /wheels/{name}`, admin keys only)."""
        return self._run(calls.wheel_delete(name))

    def health(self) -> JsonObject:
        """The gateway's liveness (`GET /health`): `{"status": "ok"}` while it serves HTTP."""
        return self._run(calls.health())

    def close(self) -> None:
        """Release the connections; the client must not be used afterwards."""
        self._sdk.get_httpx_client().close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, call: Call[T]) -> T:
        """Send `call` with the SDK's sync function; its result, or the error it stands for."""
        with translated(self.base_url, self.timeout):
            response = call.operation.sync_detailed(*call.args, client=self._sdk, **call.kwargs)
            return call.read(response)


def _error_body(response: httpx.Response) -> bytes:
    """The body of an error answer (read now, it is a stream); nothing for a success."""
    return response.read() if response.is_error else b""
