"""`Client`: the pyoco-server HTTP API as plain JSON dicts, over the generated SDK.

The generated `pyoco_server_sdk` builds every request and parses every answer; this module only
turns its models into dicts and its outcomes into the `ClientError` tree. It holds no HTTP code
of its own: one httpx response hook catches error answers that are not problem documents (a
proxy's HTML page), which the SDK would otherwise fail on with a bare JSON decode error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from io import BytesIO
from types import TracebackType
from typing import Any, Protocol, Self

import httpx

from pyoco_client._errors import ClientError, ConnectionFailed, ProblemError, RunNotFound, TimedOut
from pyoco_server_sdk import AuthenticatedClient
from pyoco_server_sdk import Client as SdkClient
from pyoco_server_sdk.api.health import get_health
from pyoco_server_sdk.api.runs import get_run, get_run_tasks, submit_run, submit_run_yaml
from pyoco_server_sdk.models import Params, Problem, RunSubmitRequest, RunYamlSubmitRequest
from pyoco_server_sdk.types import UNSET, File, Response, Unset

JsonObject = dict[str, Any]
"""A JSON object as decoded by `json.loads`."""

_RUN_NOT_FOUND = "run_not_found"
"""The `reason` of the server's problem when a run id is unknown."""


class _Model(Protocol):
    """What every model of the generated SDK offers."""

    def to_dict(self) -> dict[str, Any]: ...


class Client:
    """Submit runs to a pyoco-server and read them back, as JSON dicts.

    Use it as a context manager, or call `close()`, to release its connections::

        with Client("http://127.0.0.1:8000") as client:
            run_id = client.submit("main", params={"x": 1})["run_id"]
            print(client.get(run_id)["status"])

    Every method raises `ProblemError` when the server answers with an HTTP error,
    `ConnectionFailed` when it does not answer, and `ClientError` when its answer does not
    follow the API.
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
            timeout: Seconds to wait for the server on each of connect, send and read.
        """
        self.base_url = base_url
        self.timeout = timeout
        self._sdk = _sdk_client(base_url, api_key, api_key_header, timeout)

    def submit(
        self,
        flow_name: str,
        params: Mapping[str, Any] | None = None,
        tag: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> JsonObject:
        """Submit a run of a flow the workers know by name (`POST /runs`).

        Args:
            flow_name: Name of the flow, resolved by the workers' flow resolver.
            params: Parameters passed to the flow's tasks by name.
            tag: Routing tag of the run; None for the server's default tag.
            tags: Metadata labels stored with the run.

        Returns:
            The accepted run: `run_id`, `status` (PENDING), `flow_name` and `tag`.

        Raises:
            ValueError: `params` holds NaN or infinity, which JSON cannot carry.
            TypeError: `params` holds a value that is not JSON (a set, a date).
        """
        body = RunSubmitRequest(
            flow_name=flow_name,
            params=UNSET if params is None else Params.from_dict(_json_copy(params)),
            tag=_given(tag),
            tags=UNSET if tags is None else list(tags),
        )
        return self._call(submit_run.sync_detailed, body=body)

    def submit_yaml(
        self,
        workflow: bytes,
        flow_name: str,
        tag: str | None = None,
        params: Mapping[str, Any] | None = None,
        file_name: str = "flow.yaml",
    ) -> JsonObject:
        """Upload a single-flow flow.yaml and submit a run of it (`POST /runs/yaml`).

        Args:
            workflow: The content of the flow.yaml file.
            flow_name: Name of the flow to run.
            tag: Routing tag of the run; None for the server's default tag.
            params: Values overriding the file's `flow.defaults`, key by key.
            file_name: File name sent with the upload.

        Returns:
            The accepted run: `run_id`, `status` (PENDING), `flow_name` and `tag`.

        Raises:
            ValueError: `params` holds NaN or infinity, which JSON cannot carry.
            TypeError: `params` holds a value that is not JSON (a set, a date).
        """
        body = RunYamlSubmitRequest(
            workflow=File(payload=BytesIO(workflow), file_name=file_name),
            flow_name=flow_name,
            tag=_given(tag),
            params=UNSET if params is None else json.dumps(params, allow_nan=False),
        )
        return self._call(submit_run_yaml.sync_detailed, body=body)

    def get(self, run_id: str, records: bool = False) -> JsonObject:
        """The latest snapshot of a run (`GET /runs/{run_id}`).

        Args:
            run_id: The id returned by a submit call.
            records: Include the per-task records (`task_records`).

        Returns:
            The run's snapshot.

        Raises:
            RunNotFound: The server has no run with this id.
        """
        if records:
            return self._read_run(get_run.sync_detailed, run_id, include=["records"])
        return self._read_run(get_run.sync_detailed, run_id)

    def tasks(self, run_id: str) -> JsonObject:
        """The per-task states and records of a run (`GET /runs/{run_id}/tasks`).

        Args:
            run_id: The id returned by a submit call.

        Returns:
            The run's `tasks` and `task_records`, with its `status`.

        Raises:
            RunNotFound: The server has no run with this id.
        """
        return self._read_run(get_run_tasks.sync_detailed, run_id)

    def health(self) -> JsonObject:
        """The gateway's liveness (`GET /health`): `{"status": "ok"}` while it serves HTTP."""
        return self._call(get_health.sync_detailed)

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

    def _read_run(
        self, operation: Callable[..., Response[Any]], run_id: str, **kwargs: Any
    ) -> JsonObject:
        try:
            return self._call(operation, run_id, **kwargs)
        except ProblemError as exc:
            if exc.status == HTTPStatus.NOT_FOUND and exc.reason == _RUN_NOT_FOUND:
                raise RunNotFound(run_id, exc) from exc
            raise

    def _call(
        self, operation: Callable[..., Response[Any]], *args: Any, **kwargs: Any
    ) -> JsonObject:
        """Run one SDK operation; its parsed answer as a dict, or the error it stands for."""
        try:
            response = operation(*args, client=self._sdk, **kwargs)
        except httpx.TimeoutException as exc:
            raise TimedOut(self.base_url, self.timeout) from exc
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise ConnectionFailed(self.base_url, str(exc) or type(exc).__name__) from exc
        except (ValueError, KeyError, TypeError) as exc:
            # The SDK could not parse the answer into the contract's models.
            raise ClientError(
                f"the answer of {self.base_url} does not follow the pyoco-server API: {exc!r}"
            ) from exc
        return _json_of(response)


def _sdk_client(
    base_url: str, api_key: str | None, api_key_header: str, timeout: float
) -> SdkClient | AuthenticatedClient:
    httpx_args = {"event_hooks": {"response": [_raise_for_foreign_error]}}
    if api_key is None:
        return SdkClient(base_url=base_url, timeout=httpx.Timeout(timeout), httpx_args=httpx_args)
    return AuthenticatedClient(
        base_url=base_url,
        token=api_key,
        prefix="",
        auth_header_name=api_key_header,
        timeout=httpx.Timeout(timeout),
        httpx_args=httpx_args,
    )


def _json_copy(params: Mapping[str, Any]) -> JsonObject:
    """A copy of `params` as JSON decodes it; raises here, not inside the SDK, on non-JSON."""
    copy: JsonObject = json.loads(json.dumps(params, allow_nan=False))
    return copy


def _given(value: str | None) -> str | Unset:
    return UNSET if value is None else value


def _json_of(response: Response[Any]) -> JsonObject:
    parsed = response.parsed
    if isinstance(parsed, Problem):
        raise _problem_error(parsed)
    if parsed is None:
        # An operation without problem responses in the contract (health) got an error.
        raise _problem_of_content(response.status_code, response.content)
    model: _Model = parsed
    return model.to_dict()


def _problem_error(problem: Problem) -> ProblemError:
    return ProblemError(
        problem.status,
        problem.title,
        None if isinstance(problem.detail, Unset) else problem.detail,
        None if isinstance(problem.reason, Unset) else problem.reason,
    )


def _problem_of_content(status: int, content: bytes) -> ProblemError:
    try:
        return _problem_error(Problem.from_dict(json.loads(content)))
    except (ValueError, KeyError, TypeError):
        return ProblemError(
            status, _phrase(status), _excerpt(content.decode(errors="replace")), None
        )


def _raise_for_foreign_error(response: httpx.Response) -> None:
    """Raise `ProblemError` for an HTTP error whose body is not JSON, before the SDK parses it."""
    if response.is_error and "json" not in response.headers.get("content-type", ""):
        response.read()
        reason = response.reason_phrase or _phrase(response.status_code)
        raise ProblemError(response.status_code, reason, _excerpt(response.text), None)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _excerpt(text: str, limit: int = 200) -> str | None:
    """The start of a body on one line, or None when it is blank."""
    line = " ".join(text.split())
    return (line[: limit - 1] + "…" if len(line) > limit else line) or None
