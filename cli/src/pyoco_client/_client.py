"""`Client`: the pyoco-server HTTP API as plain JSON dicts, over the generated SDK (sync).

The requests and the reading of answers live in `_calls` (shared with `AsyncClient`); this
class runs them with the SDK's sync functions. The one operation the SDK cannot do, following
a run's event stream, goes through the SDK's own httpx client, driven by `_sse.WatchSession`.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import httpx

from pyoco_client import _calls as calls
from pyoco_client._calls import Call, JsonObject
from pyoco_client._errors import ConnectionFailed, ProblemError, TimedOut
from pyoco_client._logs import LogEvent, LogSession, followed, logs_page
from pyoco_client._ops import Ops
from pyoco_client._options import RunFilters, SubmitOptions
from pyoco_client._sse import WatchEvent, WatchSession, terminal_snapshot
from pyoco_client._transport import foreign_error, sdk_client, stream_timeout, translated

T = TypeVar("T")


class Client(Ops):
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
        timeout_sec: float | None = None,
        retry: Mapping[str, Any] | None = None,
    ) -> JsonObject:
        """Submit a run of a flow the workers know by name (`POST /runs`).

        Args:
            flow_name: Name of the flow, resolved by the workers' flow resolver.
            params: Parameters passed to the flow's tasks by name.
            tag: Routing tag of the run; None for the server's default tag.
            tags: Labels stored with the run (`list(label=...)` finds them).
            idempotency_key: A key of your choosing: submitting again with the same key returns
                the run the first submit created instead of creating another.
            requires: Registry wheel versions to run with (`["my_ext==0.1.0"]`) instead of the
                newest ones for the tag.
            timeout_sec: Seconds the run may take once a worker starts it (FAILED `timeout`
                beyond); None for the server's default.
            retry: Run it again after a failure: `{"max_attempts": 3, "backoff_sec": 5}`, also
                `backoff_multiplier` and `max_backoff_sec` (the API's RetryPolicy).

        Returns:
            The accepted run: `run_id`, `status` (PENDING), `flow_name`, `tag`, and `warnings`
            for a person (no live worker serves the tag, say).

        Raises:
            ValueError: `params` holds NaN or infinity, which JSON cannot carry.
            TypeError: `params` holds a value that is not JSON (a set, a date).
        """
        options = SubmitOptions(tag, tags, idempotency_key, requires, timeout_sec, retry)
        return self._run(calls.submit(flow_name, params, options))

    def submit_yaml(
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
        """Upload a single-flow flow.yaml and submit a run of it (`POST /runs/yaml`).

        Args:
            workflow: The content of the flow.yaml file.
            flow_name: Name of the flow to run.
            tag: Routing tag of the run; None for the server's default tag.
            params: Values overriding the file's `flow.defaults`, key by key.
            file_name: File name sent with the upload.
            idempotency_key: As for `submit`.
            requires: As for `submit`.
            tags: As for `submit`.
            timeout_sec: As for `submit`.
            retry: As for `submit`.

        Returns:
            The accepted run, as for `submit`.

        Raises:
            ValueError: `params` holds NaN or infinity, which JSON cannot carry.
            TypeError: `params` holds a value that is not JSON (a set, a date).
        """
        options = SubmitOptions(tag, tags, idempotency_key, requires, timeout_sec, retry)
        return self._run(calls.submit_yaml(workflow, flow_name, params, file_name, options))

    def rerun(
        self,
        run_id: str,
        params: Mapping[str, Any] | None = None,
        tag: str | None = None,
        idempotency_key: str | None = None,
        timeout_sec: float | None = None,
    ) -> JsonObject:
        """Run a run again, as a new run (`POST /runs/{run_id}/rerun`), whatever its status.

        The new run has the original's flow (its flow.yaml too), params, tag, labels, time
        limit, retry policy and code versions, and names it in `rerun_of`.

        Args:
            run_id: The run to repeat.
            params: Parameters merged over the original's, key by key.
            tag: Route the new run to this tag instead of the original's.
            idempotency_key: As for `submit`.
            timeout_sec: The new run's time limit instead of the original's.

        Returns:
            The accepted run, as for `submit`, with `rerun_of`.

        Raises:
            RunNotFound: The server has no run with this id.
        """
        return self._run(calls.rerun(run_id, params, tag, idempotency_key, timeout_sec))

    def resolve_run_id(self, run_id: str) -> str:
        """The whole id of the run whose id is or starts with `run_id` (`GET /runs`).

        A whole id (a UUID) is returned without asking the server; anything shorter is looked
        up as a prefix, so that `client.get(client.resolve_run_id("3f2a9"))` works.

        Raises:
            RunIdPrefixError: No run id starts with `run_id`, or several do (`matches`).
        """
        if not calls.needs_lookup(run_id):
            return run_id
        return self._run(calls.resolve_run_id(run_id))

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

    def list(self, *, page_size: int = 50, **filters: Unpack[RunFilters]) -> Iterator[JsonObject]:
        """Every run that matches the filters, newest first, fetched a page at a time.

        The pages follow `next_cursor`, so no run is skipped or repeated while runs change
        state; runs submitted after the first page are not included.

        Args:
            page_size: Runs fetched per request (1 to 200).
            **filters: `status`, `run_id_prefix`, `label`, `tenant`, `flow`, `tag`,
                `updated_after` (Unix time) and `workflow_yaml_sha256`; None leaves one out
                (see `RunFilters`).

        Yields:
            Each run's summary (`GET /runs` items).
        """
        cursor = None
        while True:
            page = self._run(calls.runs_page(filters, page_size, cursor))
            yield from page["items"]
            if (cursor := page["next_cursor"]) is None:
                return

    def list_page(
        self, *, limit: int = 50, cursor: str | None = None, **filters: Unpack[RunFilters]
    ) -> JsonObject:
        """One page of runs (`GET /runs`): `{"items": [...], "next_cursor": str | None}`.

        Args are those of `list`, with `limit` runs at most and `cursor`, the `next_cursor` of
        the previous page.
        """
        return self._run(calls.runs_page(filters, limit, cursor))

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

    def logs(
        self, run_id: str, task: str | None = None, after: int = 0, limit: int = 200
    ) -> JsonObject:
        """A page of what a run's tasks printed and logged (`GET /runs/{run_id}/logs`).

        Args:
            run_id: The id returned by a submit call.
            task: Only this task's records.
            after: Only records after this `seq` (the `next_after` of the previous page).
            limit: At most this many records (1 to 1000).

        Returns:
            `{"run_id", "items", "next_after", "truncated"}`: the records oldest first (`seq`,
            `task`, `stream` (stdout, stderr, log or system), `level`, `logger`, `message`,
            `ts`, `attempt`); `next_after` None when there are no more now; `truncated` True
            when the run wrote more than its log limit and the rest was dropped.

        Raises:
            RunNotFound: The server has no run with this id.
        """
        return self._run(logs_page(run_id, task, after, limit))

    def follow_logs(
        self,
        run_id: str,
        task: str | None = None,
        after: int = 0,
        *,
        timeout: float | None = None,
    ) -> Generator[LogEvent, None, None]:
        """Follow what a run's tasks print and log as they do, until the run ends.

        Yields each record after `after` (from the start by default), then each new one as the
        server pushes it, a heartbeat during silences, and last an `end` event with the run's
        status. A dropped connection is reopened after the last record received, so none is
        lost or repeated, for as long as the server comes back within 30 seconds.

        Args:
            run_id: The id returned by a submit call.
            task: Only this task's records.
            after: Start after this record (`seq`, the `id` of a `LogEvent`).
            timeout: Give up after this many seconds; None to follow however long the run takes.

        Raises:
            RunNotFound: The server has no run with this id.
            TimedOut: The run did not end within `timeout`.
            ConnectionFailed: The server could not be reached, or stayed away after a drop.
        """
        session = LogSession(self.base_url, run_id, task=task, after=after, timeout=timeout)
        yield from followed(self._sdk.get_httpx_client(), session, self.base_url, self.timeout)

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
