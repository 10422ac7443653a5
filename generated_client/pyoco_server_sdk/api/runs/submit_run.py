from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.run_accepted import RunAccepted
from ...models.run_submit_request import RunSubmitRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: RunSubmitRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/runs",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | RunAccepted:
    if response.status_code == 201:
        response_201 = RunAccepted.from_dict(response.json())

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

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

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
    *,
    client: AuthenticatedClient | Client,
    body: RunSubmitRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | RunAccepted]:
    """Submit a run of a flow known to the workers

     Queues a run of `flow_name` on the work subject of `tag` (default: the server's default
    tag). Workers resolve the flow by name through their flow resolver. The run is stored
    as PENDING and its job queued before this call returns. The answer warns (`warnings`)
    when no live worker serves the tag, since the run would wait until one does.
    Submits are limited per tenant (PYOCO_SUBMIT_RATE_PER_SEC, PYOCO_SUBMIT_BURST; 429
    `submit_rate_limited` beyond), and a full work queue (PYOCO_WORK_MAX_BYTES) is a 503
    `queue_full`; either way nothing is stored.

    Args:
        idempotency_key (str | Unset):
        body (RunSubmitRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunAccepted]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: RunSubmitRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | RunAccepted | None:
    """Submit a run of a flow known to the workers

     Queues a run of `flow_name` on the work subject of `tag` (default: the server's default
    tag). Workers resolve the flow by name through their flow resolver. The run is stored
    as PENDING and its job queued before this call returns. The answer warns (`warnings`)
    when no live worker serves the tag, since the run would wait until one does.
    Submits are limited per tenant (PYOCO_SUBMIT_RATE_PER_SEC, PYOCO_SUBMIT_BURST; 429
    `submit_rate_limited` beyond), and a full work queue (PYOCO_WORK_MAX_BYTES) is a 503
    `queue_full`; either way nothing is stored.

    Args:
        idempotency_key (str | Unset):
        body (RunSubmitRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunAccepted
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: RunSubmitRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | RunAccepted]:
    """Submit a run of a flow known to the workers

     Queues a run of `flow_name` on the work subject of `tag` (default: the server's default
    tag). Workers resolve the flow by name through their flow resolver. The run is stored
    as PENDING and its job queued before this call returns. The answer warns (`warnings`)
    when no live worker serves the tag, since the run would wait until one does.
    Submits are limited per tenant (PYOCO_SUBMIT_RATE_PER_SEC, PYOCO_SUBMIT_BURST; 429
    `submit_rate_limited` beyond), and a full work queue (PYOCO_WORK_MAX_BYTES) is a 503
    `queue_full`; either way nothing is stored.

    Args:
        idempotency_key (str | Unset):
        body (RunSubmitRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunAccepted]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: RunSubmitRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | RunAccepted | None:
    """Submit a run of a flow known to the workers

     Queues a run of `flow_name` on the work subject of `tag` (default: the server's default
    tag). Workers resolve the flow by name through their flow resolver. The run is stored
    as PENDING and its job queued before this call returns. The answer warns (`warnings`)
    when no live worker serves the tag, since the run would wait until one does.
    Submits are limited per tenant (PYOCO_SUBMIT_RATE_PER_SEC, PYOCO_SUBMIT_BURST; 429
    `submit_rate_limited` beyond), and a full work queue (PYOCO_WORK_MAX_BYTES) is a 503
    `queue_full`; either way nothing is stored.

    Args:
        idempotency_key (str | Unset):
        body (RunSubmitRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunAccepted
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
