from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.list_wheel_history_action import ListWheelHistoryAction
from ...models.problem import Problem
from ...models.wheel_history_event import WheelHistoryEvent
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 100,
    wheel_name: str | Unset = UNSET,
    action: ListWheelHistoryAction | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["wheel_name"] = wheel_name

    json_action: str | Unset = UNSET
    if not isinstance(action, Unset):
        json_action = action

    params["action"] = json_action

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/wheels/history",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[WheelHistoryEvent]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = WheelHistoryEvent.from_dict(response_200_item_data)

            response_200.append(response_200_item)

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
) -> Response[Problem | list[WheelHistoryEvent]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 100,
    wheel_name: str | Unset = UNSET,
    action: ListWheelHistoryAction | Unset = UNSET,
) -> Response[Problem | list[WheelHistoryEvent]]:
    """Uploads and deletions, newest first

     Who uploaded or deleted which wheel, when, and from where.

    Args:
        limit (int | Unset):  Default: 100.
        wheel_name (str | Unset): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.
        action (ListWheelHistoryAction | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[WheelHistoryEvent]]
    """

    kwargs = _get_kwargs(
        limit=limit,
        wheel_name=wheel_name,
        action=action,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 100,
    wheel_name: str | Unset = UNSET,
    action: ListWheelHistoryAction | Unset = UNSET,
) -> Problem | list[WheelHistoryEvent] | None:
    """Uploads and deletions, newest first

     Who uploaded or deleted which wheel, when, and from where.

    Args:
        limit (int | Unset):  Default: 100.
        wheel_name (str | Unset): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.
        action (ListWheelHistoryAction | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[WheelHistoryEvent]
    """

    return sync_detailed(
        client=client,
        limit=limit,
        wheel_name=wheel_name,
        action=action,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 100,
    wheel_name: str | Unset = UNSET,
    action: ListWheelHistoryAction | Unset = UNSET,
) -> Response[Problem | list[WheelHistoryEvent]]:
    """Uploads and deletions, newest first

     Who uploaded or deleted which wheel, when, and from where.

    Args:
        limit (int | Unset):  Default: 100.
        wheel_name (str | Unset): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.
        action (ListWheelHistoryAction | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[WheelHistoryEvent]]
    """

    kwargs = _get_kwargs(
        limit=limit,
        wheel_name=wheel_name,
        action=action,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 100,
    wheel_name: str | Unset = UNSET,
    action: ListWheelHistoryAction | Unset = UNSET,
) -> Problem | list[WheelHistoryEvent] | None:
    """Uploads and deletions, newest first

     Who uploaded or deleted which wheel, when, and from where.

    Args:
        limit (int | Unset):  Default: 100.
        wheel_name (str | Unset): A wheel file name
            (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). Example:
            my_ext-0.1.0-py3-none-any.whl.
        action (ListWheelHistoryAction | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[WheelHistoryEvent]
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            wheel_name=wheel_name,
            action=action,
        )
    ).parsed
