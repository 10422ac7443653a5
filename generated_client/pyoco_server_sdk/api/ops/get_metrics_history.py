from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.metrics_history import MetricsHistory
from ...models.problem import Problem
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/metrics/history",
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> MetricsHistory | Problem:
    if response.status_code == 200:
        response_200 = MetricsHistory.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[MetricsHistory | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[MetricsHistory | Problem]:
    """Throughput and latency of the last hour

     What this gateway process saw over the last hour, in 10-second buckets, oldest first:
    runs submitted through it, runs that ended (by status, from its run index), and the
    submit-to-end latency of those runs (p50, p95). Kept in memory by each process (a
    restart starts empty). Admin keys only when API keys are on.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MetricsHistory | Problem]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
) -> MetricsHistory | Problem | None:
    """Throughput and latency of the last hour

     What this gateway process saw over the last hour, in 10-second buckets, oldest first:
    runs submitted through it, runs that ended (by status, from its run index), and the
    submit-to-end latency of those runs (p50, p95). Kept in memory by each process (a
    restart starts empty). Admin keys only when API keys are on.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MetricsHistory | Problem
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[MetricsHistory | Problem]:
    """Throughput and latency of the last hour

     What this gateway process saw over the last hour, in 10-second buckets, oldest first:
    runs submitted through it, runs that ended (by status, from its run index), and the
    submit-to-end latency of those runs (p50, p95). Kept in memory by each process (a
    restart starts empty). Admin keys only when API keys are on.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MetricsHistory | Problem]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
) -> MetricsHistory | Problem | None:
    """Throughput and latency of the last hour

     What this gateway process saw over the last hour, in 10-second buckets, oldest first:
    runs submitted through it, runs that ended (by status, from its run index), and the
    submit-to-end latency of those runs (p50, p95). Kept in memory by each process (a
    restart starts empty). Admin keys only when API keys are on.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MetricsHistory | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
