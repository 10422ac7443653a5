from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.wheel import Wheel
from ...models.wheel_upload_request import WheelUploadRequest
from ...types import Response


def _get_kwargs(
    *,
    body: WheelUploadRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/wheels",
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | Wheel:
    if response.status_code == 201:
        response_201 = Wheel.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | Wheel]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: WheelUploadRequest,
) -> Response[Problem | Wheel]:
    """Upload a wheel

     Stores a wheel (a zip whose `*.dist-info/METADATA` Name and Version match its file name).
    Its version must be strictly higher than every stored version of the same distribution
    (409 otherwise), checked atomically. `tags` (comma-separated) limits which workers install
    it and which runs are bound to it; an untagged wheel goes to every worker and run. With
    `replace=false` the upload is refused (409) when the distribution already has a version.
    The body is streamed to a temporary file and counted as it arrives: over
    PYOCO_WHEEL_MAX_BYTES it is refused with 413 without being kept.

    Args:
        body (WheelUploadRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Wheel]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: WheelUploadRequest,
) -> Problem | Wheel | None:
    """Upload a wheel

     Stores a wheel (a zip whose `*.dist-info/METADATA` Name and Version match its file name).
    Its version must be strictly higher than every stored version of the same distribution
    (409 otherwise), checked atomically. `tags` (comma-separated) limits which workers install
    it and which runs are bound to it; an untagged wheel goes to every worker and run. With
    `replace=false` the upload is refused (409) when the distribution already has a version.
    The body is streamed to a temporary file and counted as it arrives: over
    PYOCO_WHEEL_MAX_BYTES it is refused with 413 without being kept.

    Args:
        body (WheelUploadRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Wheel
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: WheelUploadRequest,
) -> Response[Problem | Wheel]:
    """Upload a wheel

     Stores a wheel (a zip whose `*.dist-info/METADATA` Name and Version match its file name).
    Its version must be strictly higher than every stored version of the same distribution
    (409 otherwise), checked atomically. `tags` (comma-separated) limits which workers install
    it and which runs are bound to it; an untagged wheel goes to every worker and run. With
    `replace=false` the upload is refused (409) when the distribution already has a version.
    The body is streamed to a temporary file and counted as it arrives: over
    PYOCO_WHEEL_MAX_BYTES it is refused with 413 without being kept.

    Args:
        body (WheelUploadRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Wheel]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: WheelUploadRequest,
) -> Problem | Wheel | None:
    """Upload a wheel

     Stores a wheel (a zip whose `*.dist-info/METADATA` Name and Version match its file name).
    Its version must be strictly higher than every stored version of the same distribution
    (409 otherwise), checked atomically. `tags` (comma-separated) limits which workers install
    it and which runs are bound to it; an untagged wheel goes to every worker and run. With
    `replace=false` the upload is refused (409) when the distribution already has a version.
    The body is streamed to a temporary file and counted as it arrives: over
    PYOCO_WHEEL_MAX_BYTES it is refused with 413 without being kept.

    Args:
        body (WheelUploadRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Wheel
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
