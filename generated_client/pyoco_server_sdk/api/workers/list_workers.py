from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.list_workers_scope import ListWorkersScope
from ...models.problem import Problem
from ...models.worker_page import WorkerPage
from ...models.worker_state import WorkerState
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    scope: ListWorkersScope | Unset = "active",
    state: WorkerState | Unset = UNSET,
    include_hidden: bool | Unset = False,
    limit: int | Unset = 100,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_scope: str | Unset = UNSET
    if not isinstance(scope, Unset):
        json_scope = scope

    params["scope"] = json_scope

    json_state: str | Unset = UNSET
    if not isinstance(state, Unset):
        json_state = state

    params["state"] = json_state

    params["include_hidden"] = include_hidden

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/workers",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | WorkerPage:
    if response.status_code == 200:
        response_200 = WorkerPage.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | WorkerPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    scope: ListWorkersScope | Unset = "active",
    state: WorkerState | Unset = UNSET,
    include_hidden: bool | Unset = False,
    limit: int | Unset = 100,
    cursor: str | Unset = UNSET,
) -> Response[Problem | WorkerPage]:
    """Registered workers

     Workers write their record when they start, every PYOCO_WORKER_HEARTBEAT_INTERVAL_SEC,
    and when they stop. A worker not heard from for PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC is
    shown DISCONNECTED. Records are kept for PYOCO_WORKER_RECORD_RETENTION_SEC after the last
    write, so stopped and disconnected workers stay visible. Ordered by worker id, a
    stable order (heartbeats do not move a worker), so paging with `cursor` never skips or
    repeats a worker.

    Args:
        scope (ListWorkersScope | Unset):  Default: 'active'.
        state (WorkerState | Unset): RUNNING: runs at least one run; IDLE: runs none;
            STOPPED_GRACEFUL: stopped after
            SIGTERM or SIGINT; DISCONNECTED: not heard from for PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC.
        include_hidden (bool | Unset):  Default: False.
        limit (int | Unset):  Default: 100.
        cursor (str | Unset): A worker's name (letters, digits, `_`, `-`, `=`, and inner dots).
            Example: w1.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WorkerPage]
    """

    kwargs = _get_kwargs(
        scope=scope,
        state=state,
        include_hidden=include_hidden,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    scope: ListWorkersScope | Unset = "active",
    state: WorkerState | Unset = UNSET,
    include_hidden: bool | Unset = False,
    limit: int | Unset = 100,
    cursor: str | Unset = UNSET,
) -> Problem | WorkerPage | None:
    """Registered workers

     Workers write their record when they start, every PYOCO_WORKER_HEARTBEAT_INTERVAL_SEC,
    and when they stop. A worker not heard from for PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC is
    shown DISCONNECTED. Records are kept for PYOCO_WORKER_RECORD_RETENTION_SEC after the last
    write, so stopped and disconnected workers stay visible. Ordered by worker id, a
    stable order (heartbeats do not move a worker), so paging with `cursor` never skips or
    repeats a worker.

    Args:
        scope (ListWorkersScope | Unset):  Default: 'active'.
        state (WorkerState | Unset): RUNNING: runs at least one run; IDLE: runs none;
            STOPPED_GRACEFUL: stopped after
            SIGTERM or SIGINT; DISCONNECTED: not heard from for PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC.
        include_hidden (bool | Unset):  Default: False.
        limit (int | Unset):  Default: 100.
        cursor (str | Unset): A worker's name (letters, digits, `_`, `-`, `=`, and inner dots).
            Example: w1.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WorkerPage
    """

    return sync_detailed(
        client=client,
        scope=scope,
        state=state,
        include_hidden=include_hidden,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    scope: ListWorkersScope | Unset = "active",
    state: WorkerState | Unset = UNSET,
    include_hidden: bool | Unset = False,
    limit: int | Unset = 100,
    cursor: str | Unset = UNSET,
) -> Response[Problem | WorkerPage]:
    """Registered workers

     Workers write their record when they start, every PYOCO_WORKER_HEARTBEAT_INTERVAL_SEC,
    and when they stop. A worker not heard from for PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC is
    shown DISCONNECTED. Records are kept for PYOCO_WORKER_RECORD_RETENTION_SEC after the last
    write, so stopped and disconnected workers stay visible. Ordered by worker id, a
    stable order (heartbeats do not move a worker), so paging with `cursor` never skips or
    repeats a worker.

    Args:
        scope (ListWorkersScope | Unset):  Default: 'active'.
        state (WorkerState | Unset): RUNNING: runs at least one run; IDLE: runs none;
            STOPPED_GRACEFUL: stopped after
            SIGTERM or SIGINT; DISCONNECTED: not heard from for PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC.
        include_hidden (bool | Unset):  Default: False.
        limit (int | Unset):  Default: 100.
        cursor (str | Unset): A worker's name (letters, digits, `_`, `-`, `=`, and inner dots).
            Example: w1.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WorkerPage]
    """

    kwargs = _get_kwargs(
        scope=scope,
        state=state,
        include_hidden=include_hidden,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    scope: ListWorkersScope | Unset = "active",
    state: WorkerState | Unset = UNSET,
    include_hidden: bool | Unset = False,
    limit: int | Unset = 100,
    cursor: str | Unset = UNSET,
) -> Problem | WorkerPage | None:
    """Registered workers

     Workers write their record when they start, every PYOCO_WORKER_HEARTBEAT_INTERVAL_SEC,
    and when they stop. A worker not heard from for PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC is
    shown DISCONNECTED. Records are kept for PYOCO_WORKER_RECORD_RETENTION_SEC after the last
    write, so stopped and disconnected workers stay visible. Ordered by worker id, a
    stable order (heartbeats do not move a worker), so paging with `cursor` never skips or
    repeats a worker.

    Args:
        scope (ListWorkersScope | Unset):  Default: 'active'.
        state (WorkerState | Unset): RUNNING: runs at least one run; IDLE: runs none;
            STOPPED_GRACEFUL: stopped after
            SIGTERM or SIGINT; DISCONNECTED: not heard from for PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC.
        include_hidden (bool | Unset):  Default: False.
        limit (int | Unset):  Default: 100.
        cursor (str | Unset): A worker's name (letters, digits, `_`, `-`, `=`, and inner dots).
            Example: w1.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WorkerPage
    """

    return (
        await asyncio_detailed(
            client=client,
            scope=scope,
            state=state,
            include_hidden=include_hidden,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
