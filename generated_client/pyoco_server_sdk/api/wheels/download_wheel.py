from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import File, Response


def _get_kwargs(
    wheel_name: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/wheels/{wheel_name}".format(
            wheel_name=quote(str(wheel_name), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> File | Problem:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[File | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    wheel_name: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[File | Problem]:
    """Download a wheel

    Args:
        wheel_name (str): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        wheel_name=wheel_name,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    wheel_name: str,
    *,
    client: AuthenticatedClient | Client,
) -> File | Problem | None:
    """Download a wheel

    Args:
        wheel_name (str): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return sync_detailed(
        wheel_name=wheel_name,
        client=client,
    ).parsed


async def asyncio_detailed(
    wheel_name: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[File | Problem]:
    """Download a wheel

    Args:
        wheel_name (str): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        wheel_name=wheel_name,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    wheel_name: str,
    *,
    client: AuthenticatedClient | Client,
) -> File | Problem | None:
    """Download a wheel

    Args:
        wheel_name (str): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return (
        await asyncio_detailed(
            wheel_name=wheel_name,
            client=client,
        )
    ).parsed
