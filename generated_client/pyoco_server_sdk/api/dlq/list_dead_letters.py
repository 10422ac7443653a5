from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.dead_letter_page import DeadLetterPage
from ...models.dead_letter_reason import DeadLetterReason
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    reason: DeadLetterReason | Unset = UNSET,
    tag: str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_reason: str | Unset = UNSET
    if not isinstance(reason, Unset):
        json_reason = reason

    params["reason"] = json_reason

    params["tag"] = tag

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/dlq",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> DeadLetterPage | Problem:
    if response.status_code == 200:
        response_200 = DeadLetterPage.from_dict(response.json())

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
) -> Response[DeadLetterPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    reason: DeadLetterReason | Unset = UNSET,
    tag: str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[DeadLetterPage | Problem]:
    """Dead letters, newest first

     Jobs that could not be run, from the PYOCO_DLQ stream. A page reads at most a bounded
    number of records; `next_cursor` continues below the last one read, so a filter that
    matches rarely may return a short (even empty) page with a cursor.

    Args:
        reason (DeadLetterReason | Unset): `invalid_job`: the message was not a valid job;
            `flow_not_found`: no flow for it on the
            worker; `callable_not_allowed`: a task's callable is not allowed on the worker;
            `code_unavailable`: a wheel the run is bound to could not be installed;
            `execution_error`: the run failed in task code (or its process crashed);
            `max_deliveries_exceeded`: its deliveries ran out (its workers kept dying);
            `timeout`: the run went over its time limit.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeadLetterPage | Problem]
    """

    kwargs = _get_kwargs(
        reason=reason,
        tag=tag,
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
    reason: DeadLetterReason | Unset = UNSET,
    tag: str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> DeadLetterPage | Problem | None:
    """Dead letters, newest first

     Jobs that could not be run, from the PYOCO_DLQ stream. A page reads at most a bounded
    number of records; `next_cursor` continues below the last one read, so a filter that
    matches rarely may return a short (even empty) page with a cursor.

    Args:
        reason (DeadLetterReason | Unset): `invalid_job`: the message was not a valid job;
            `flow_not_found`: no flow for it on the
            worker; `callable_not_allowed`: a task's callable is not allowed on the worker;
            `code_unavailable`: a wheel the run is bound to could not be installed;
            `execution_error`: the run failed in task code (or its process crashed);
            `max_deliveries_exceeded`: its deliveries ran out (its workers kept dying);
            `timeout`: the run went over its time limit.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeadLetterPage | Problem
    """

    return sync_detailed(
        client=client,
        reason=reason,
        tag=tag,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    reason: DeadLetterReason | Unset = UNSET,
    tag: str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[DeadLetterPage | Problem]:
    """Dead letters, newest first

     Jobs that could not be run, from the PYOCO_DLQ stream. A page reads at most a bounded
    number of records; `next_cursor` continues below the last one read, so a filter that
    matches rarely may return a short (even empty) page with a cursor.

    Args:
        reason (DeadLetterReason | Unset): `invalid_job`: the message was not a valid job;
            `flow_not_found`: no flow for it on the
            worker; `callable_not_allowed`: a task's callable is not allowed on the worker;
            `code_unavailable`: a wheel the run is bound to could not be installed;
            `execution_error`: the run failed in task code (or its process crashed);
            `max_deliveries_exceeded`: its deliveries ran out (its workers kept dying);
            `timeout`: the run went over its time limit.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeadLetterPage | Problem]
    """

    kwargs = _get_kwargs(
        reason=reason,
        tag=tag,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    reason: DeadLetterReason | Unset = UNSET,
    tag: str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> DeadLetterPage | Problem | None:
    """Dead letters, newest first

     Jobs that could not be run, from the PYOCO_DLQ stream. A page reads at most a bounded
    number of records; `next_cursor` continues below the last one read, so a filter that
    matches rarely may return a short (even empty) page with a cursor.

    Args:
        reason (DeadLetterReason | Unset): `invalid_job`: the message was not a valid job;
            `flow_not_found`: no flow for it on the
            worker; `callable_not_allowed`: a task's callable is not allowed on the worker;
            `code_unavailable`: a wheel the run is bound to could not be installed;
            `execution_error`: the run failed in task code (or its process crashed);
            `max_deliveries_exceeded`: its deliveries ran out (its workers kept dying);
            `timeout`: the run went over its time limit.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeadLetterPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            reason=reason,
            tag=tag,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
