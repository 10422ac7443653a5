from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.run_graph import RunGraph
from ...types import Response


def _get_kwargs(
    run_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/runs/{run_id}/graph".format(
            run_id=quote(str(run_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | RunGraph:
    if response.status_code == 200:
        response_200 = RunGraph.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | RunGraph]:
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
) -> Response[Problem | RunGraph]:
    """A run's task graph with each task's state

     The tasks of the run's flow as nodes (with their current state) and the dependencies
    between them as edges, for drawing. For a flow.yaml run the graph comes from its stored
    flow.yaml (`complete: true`); for a flow resolved by name on the workers the gateway
    knows only the tasks the snapshot lists, without edges (`complete: false`).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunGraph]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | RunGraph | None:
    """A run's task graph with each task's state

     The tasks of the run's flow as nodes (with their current state) and the dependencies
    between them as edges, for drawing. For a flow.yaml run the graph comes from its stored
    flow.yaml (`complete: true`); for a flow resolved by name on the workers the gateway
    knows only the tasks the snapshot lists, without edges (`complete: false`).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunGraph
    """

    return sync_detailed(
        run_id=run_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | RunGraph]:
    """A run's task graph with each task's state

     The tasks of the run's flow as nodes (with their current state) and the dependencies
    between them as edges, for drawing. For a flow.yaml run the graph comes from its stored
    flow.yaml (`complete: true`); for a flow resolved by name on the workers the gateway
    knows only the tasks the snapshot lists, without edges (`complete: false`).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunGraph]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | RunGraph | None:
    """A run's task graph with each task's state

     The tasks of the run's flow as nodes (with their current state) and the dependencies
    between them as edges, for drawing. For a flow.yaml run the graph comes from its stored
    flow.yaml (`complete: true`); for a flow resolved by name on the workers the gateway
    knows only the tasks the snapshot lists, without edges (`complete: false`).

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunGraph
    """

    return (
        await asyncio_detailed(
            run_id=run_id,
            client=client,
        )
    ).parsed
