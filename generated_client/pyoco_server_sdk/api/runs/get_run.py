from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.get_run_include_item import GetRunIncludeItem
from ...models.problem import Problem
from ...models.run_snapshot import RunSnapshot
from ...types import UNSET, Response, Unset


def _get_kwargs(
    run_id: str,
    *,
    include: list[GetRunIncludeItem] | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_include: list[str] | Unset = UNSET
    if not isinstance(include, Unset):
        json_include = []
        for include_item_data in include:
            include_item: str = include_item_data
            json_include.append(include_item)

    params["include"] = json_include

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/runs/{run_id}".format(
            run_id=quote(str(run_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | RunSnapshot:
    if response.status_code == 200:
        response_200 = RunSnapshot.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | RunSnapshot]:
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
    include: list[GetRunIncludeItem] | Unset = UNSET,
) -> Response[Problem | RunSnapshot]:
    """Latest snapshot of a run

     By default the per-task records are left out; ask for them with `include=records`
    (`task_records` is an alias; `all` and `full` include everything).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        include (list[GetRunIncludeItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunSnapshot]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        include=include,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    include: list[GetRunIncludeItem] | Unset = UNSET,
) -> Problem | RunSnapshot | None:
    """Latest snapshot of a run

     By default the per-task records are left out; ask for them with `include=records`
    (`task_records` is an alias; `all` and `full` include everything).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        include (list[GetRunIncludeItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunSnapshot
    """

    return sync_detailed(
        run_id=run_id,
        client=client,
        include=include,
    ).parsed


async def asyncio_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    include: list[GetRunIncludeItem] | Unset = UNSET,
) -> Response[Problem | RunSnapshot]:
    """Latest snapshot of a run

     By default the per-task records are left out; ask for them with `include=records`
    (`task_records` is an alias; `all` and `full` include everything).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        include (list[GetRunIncludeItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunSnapshot]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        include=include,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    include: list[GetRunIncludeItem] | Unset = UNSET,
) -> Problem | RunSnapshot | None:
    """Latest snapshot of a run

     By default the per-task records are left out; ask for them with `include=records`
    (`task_records` is an alias; `all` and `full` include everything).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        include (list[GetRunIncludeItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunSnapshot
    """

    return (
        await asyncio_detailed(
            run_id=run_id,
            client=client,
            include=include,
        )
    ).parsed
