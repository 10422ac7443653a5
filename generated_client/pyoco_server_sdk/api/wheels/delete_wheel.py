from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.wheel_deleted import WheelDeleted
from ...types import Response


def _get_kwargs(
    wheel_name: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/wheels/{wheel_name}".format(
            wheel_name=quote(str(wheel_name), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | WheelDeleted:
    if response.status_code == 200:
        response_200 = WheelDeleted.from_dict(response.json())

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
) -> Response[Problem | WheelDeleted]:
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
) -> Response[Problem | WheelDeleted]:
    """Delete a wheel

     Removes the version from the registry: new runs are bound to the previous version of the
    distribution, if any. Runs already bound to it keep it until they end.

    Args:
        wheel_name (str): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WheelDeleted]
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
) -> Problem | WheelDeleted | None:
    """Delete a wheel

     Removes the version from the registry: new runs are bound to the previous version of the
    distribution, if any. Runs already bound to it keep it until they end.

    Args:
        wheel_name (str): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WheelDeleted
    """

    return sync_detailed(
        wheel_name=wheel_name,
        client=client,
    ).parsed


async def asyncio_detailed(
    wheel_name: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | WheelDeleted]:
    """Delete a wheel

     Removes the version from the registry: new runs are bound to the previous version of the
    distribution, if any. Runs already bound to it keep it until they end.

    Args:
        wheel_name (str): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WheelDeleted]
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
) -> Problem | WheelDeleted | None:
    """Delete a wheel

     Removes the version from the registry: new runs are bound to the previous version of the
    distribution, if any. Runs already bound to it keep it until they end.

    Args:
        wheel_name (str): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WheelDeleted
    """

    return (
        await asyncio_detailed(
            wheel_name=wheel_name,
            client=client,
        )
    ).parsed
