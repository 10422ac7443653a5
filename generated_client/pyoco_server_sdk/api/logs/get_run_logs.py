from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.run_logs import RunLogs
from ...types import UNSET, Response, Unset


def _get_kwargs(
    run_id: str,
    *,
    task: str | Unset = UNSET,
    after: int | Unset = 0,
    limit: int | Unset = 200,
    follow: bool | Unset = False,
    timeout_sec: float | Unset = 600.0,
    last_event_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id, Unset):
        headers["Last-Event-ID"] = last_event_id

    params: dict[str, Any] = {}

    params["task"] = task

    params["after"] = after

    params["limit"] = limit

    params["follow"] = follow

    params["timeout_sec"] = timeout_sec

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/runs/{run_id}/logs".format(
            run_id=quote(str(run_id), safe=""),
        ),
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | RunLogs:
    if response.status_code == 200:
        response_200 = RunLogs.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | RunLogs]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    task: str | Unset = UNSET,
    after: int | Unset = 0,
    limit: int | Unset = 200,
    follow: bool | Unset = False,
    timeout_sec: float | Unset = 600.0,
    last_event_id: str | Unset = UNSET,
) -> Response[Problem | RunLogs]:
    """What a run's tasks printed and logged

     The lines each task wrote to stdout and stderr and the records it logged with
    `logging`, captured in the run process, oldest first, across all attempts. A run keeps at
    most PYOCO_RUN_LOG_MAX_BYTES of logs (a last `system` record says when the rest was
    dropped) for as long as runs are kept (PYOCO_RUN_LOGS_MAX_AGE_SEC).

    Page with `after` (the `next_after` of the previous page). With `follow=true` the answer
    is a server-sent event stream instead (LogEvent; wire format: SseEvent): a `log` event
    per record (data: a LogRecord, id: its `seq`) as the run produces them, a `heartbeat`
    event (data: a WatchHeartbeat) every 15 s of silence, and an `end` event (data: a
    LogEnd) once the run has ended and every record was
    sent. Reconnect with `Last-Event-ID` to resume after the last record received. Follow
    streams count against the watch limits (429 `too_many_watches`).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        task (str | Unset):
        after (int | Unset):  Default: 0.
        limit (int | Unset):  Default: 200.
        follow (bool | Unset):  Default: False.
        timeout_sec (float | Unset):  Default: 600.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunLogs]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        task=task,
        after=after,
        limit=limit,
        follow=follow,
        timeout_sec=timeout_sec,
        last_event_id=last_event_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    task: str | Unset = UNSET,
    after: int | Unset = 0,
    limit: int | Unset = 200,
    follow: bool | Unset = False,
    timeout_sec: float | Unset = 600.0,
    last_event_id: str | Unset = UNSET,
) -> Problem | RunLogs | None:
    """What a run's tasks printed and logged

     The lines each task wrote to stdout and stderr and the records it logged with
    `logging`, captured in the run process, oldest first, across all attempts. A run keeps at
    most PYOCO_RUN_LOG_MAX_BYTES of logs (a last `system` record says when the rest was
    dropped) for as long as runs are kept (PYOCO_RUN_LOGS_MAX_AGE_SEC).

    Page with `after` (the `next_after` of the previous page). With `follow=true` the answer
    is a server-sent event stream instead (LogEvent; wire format: SseEvent): a `log` event
    per record (data: a LogRecord, id: its `seq`) as the run produces them, a `heartbeat`
    event (data: a WatchHeartbeat) every 15 s of silence, and an `end` event (data: a
    LogEnd) once the run has ended and every record was
    sent. Reconnect with `Last-Event-ID` to resume after the last record received. Follow
    streams count against the watch limits (429 `too_many_watches`).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        task (str | Unset):
        after (int | Unset):  Default: 0.
        limit (int | Unset):  Default: 200.
        follow (bool | Unset):  Default: False.
        timeout_sec (float | Unset):  Default: 600.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunLogs
    """

    return sync_detailed(
        run_id=run_id,
        client=client,
        task=task,
        after=after,
        limit=limit,
        follow=follow,
        timeout_sec=timeout_sec,
        last_event_id=last_event_id,
    ).parsed


async def asyncio_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    task: str | Unset = UNSET,
    after: int | Unset = 0,
    limit: int | Unset = 200,
    follow: bool | Unset = False,
    timeout_sec: float | Unset = 600.0,
    last_event_id: str | Unset = UNSET,
) -> Response[Problem | RunLogs]:
    """What a run's tasks printed and logged

     The lines each task wrote to stdout and stderr and the records it logged with
    `logging`, captured in the run process, oldest first, across all attempts. A run keeps at
    most PYOCO_RUN_LOG_MAX_BYTES of logs (a last `system` record says when the rest was
    dropped) for as long as runs are kept (PYOCO_RUN_LOGS_MAX_AGE_SEC).

    Page with `after` (the `next_after` of the previous page). With `follow=true` the answer
    is a server-sent event stream instead (LogEvent; wire format: SseEvent): a `log` event
    per record (data: a LogRecord, id: its `seq`) as the run produces them, a `heartbeat`
    event (data: a WatchHeartbeat) every 15 s of silence, and an `end` event (data: a
    LogEnd) once the run has ended and every record was
    sent. Reconnect with `Last-Event-ID` to resume after the last record received. Follow
    streams count against the watch limits (429 `too_many_watches`).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        task (str | Unset):
        after (int | Unset):  Default: 0.
        limit (int | Unset):  Default: 200.
        follow (bool | Unset):  Default: False.
        timeout_sec (float | Unset):  Default: 600.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunLogs]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        task=task,
        after=after,
        limit=limit,
        follow=follow,
        timeout_sec=timeout_sec,
        last_event_id=last_event_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    task: str | Unset = UNSET,
    after: int | Unset = 0,
    limit: int | Unset = 200,
    follow: bool | Unset = False,
    timeout_sec: float | Unset = 600.0,
    last_event_id: str | Unset = UNSET,
) -> Problem | RunLogs | None:
    """What a run's tasks printed and logged

     The lines each task wrote to stdout and stderr and the records it logged with
    `logging`, captured in the run process, oldest first, across all attempts. A run keeps at
    most PYOCO_RUN_LOG_MAX_BYTES of logs (a last `system` record says when the rest was
    dropped) for as long as runs are kept (PYOCO_RUN_LOGS_MAX_AGE_SEC).

    Page with `after` (the `next_after` of the previous page). With `follow=true` the answer
    is a server-sent event stream instead (LogEvent; wire format: SseEvent): a `log` event
    per record (data: a LogRecord, id: its `seq`) as the run produces them, a `heartbeat`
    event (data: a WatchHeartbeat) every 15 s of silence, and an `end` event (data: a
    LogEnd) once the run has ended and every record was
    sent. Reconnect with `Last-Event-ID` to resume after the last record received. Follow
    streams count against the watch limits (429 `too_many_watches`).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        task (str | Unset):
        after (int | Unset):  Default: 0.
        limit (int | Unset):  Default: 200.
        follow (bool | Unset):  Default: False.
        timeout_sec (float | Unset):  Default: 600.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunLogs
    """

    return (
        await asyncio_detailed(
            run_id=run_id,
            client=client,
            task=task,
            after=after,
            limit=limit,
            follow=follow,
            timeout_sec=timeout_sec,
            last_event_id=last_event_id,
        )
    ).parsed
