from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.run_accepted import RunAccepted
from ...types import Response


def _get_kwargs(
    dead_letter_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/dlq/{dead_letter_id}/redrive".format(
            dead_letter_id=quote(str(dead_letter_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | RunAccepted:
    if response.status_code == 200:
        response_200 = RunAccepted.from_dict(response.json())

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

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | RunAccepted]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    dead_letter_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | RunAccepted]:
    """Queue a dead letter's run again

     The run is reset to PENDING (its attempt history kept) and its job queued again on its
    tag; the dead letter is removed. A dead letter without a job (`invalid_job`) cannot be
    driven again (409), nor can a run that is queued or running (409).

    Args:
        dead_letter_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunAccepted]
    """

    kwargs = _get_kwargs(
        dead_letter_id=dead_letter_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    dead_letter_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | RunAccepted | None:
    """Queue a dead letter's run again

     The run is reset to PENDING (its attempt history kept) and its job queued again on its
    tag; the dead letter is removed. A dead letter without a job (`invalid_job`) cannot be
    driven again (409), nor can a run that is queued or running (409).

    Args:
        dead_letter_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunAccepted
    """

    return sync_detailed(
        dead_letter_id=dead_letter_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    dead_letter_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | RunAccepted]:
    """Queue a dead letter's run again

     The run is reset to PENDING (its attempt history kept) and its job queued again on its
    tag; the dead letter is removed. A dead letter without a job (`invalid_job`) cannot be
    driven again (409), nor can a run that is queued or running (409).

    Args:
        dead_letter_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunAccepted]
    """

    kwargs = _get_kwargs(
        dead_letter_id=dead_letter_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    dead_letter_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | RunAccepted | None:
    """Queue a dead letter's run again

     The run is reset to PENDING (its attempt history kept) and its job queued again on its
    tag; the dead letter is removed. A dead letter without a job (`invalid_job`) cannot be
    driven again (409), nor can a run that is queued or running (409).

    Args:
        dead_letter_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunAccepted
    """

    return (
        await asyncio_detailed(
            dead_letter_id=dead_letter_id,
            client=client,
        )
    ).parsed
