from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.rerun_request import RerunRequest
from ...models.run_accepted import RunAccepted
from ...types import UNSET, Response, Unset


def _get_kwargs(
    run_id: str,
    *,
    body: RerunRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/runs/{run_id}/rerun".format(
            run_id=quote(str(run_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
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

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

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
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RerunRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | RunAccepted]:
    """Run a run again, as a new run

     Submits a new run with the same flow (the same flow.yaml for a YAML run), params, tag,
    labels, time limit, retry policy and code versions (`requires` pinned to the original's
    `code`) as `run_id`, with `params` merged over the original's key by key, and `tag` and
    `timeout_sec` in place of the original's when given. The new run's
    `rerun_of` names the original. Any run may be run again, whatever its status. Rate and
    queue limits are those of `POST /runs`; an Idempotency-Key works the same way.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        idempotency_key (str | Unset):
        body (RerunRequest | Unset): What to change for the new run: `params` are merged over the
            original run's, key by
            key; `tag` routes it to another tag than the original's; `timeout_sec` replaces the
            original's time limit (a run that timed out, run again with more time).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunAccepted]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RerunRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Problem | RunAccepted | None:
    """Run a run again, as a new run

     Submits a new run with the same flow (the same flow.yaml for a YAML run), params, tag,
    labels, time limit, retry policy and code versions (`requires` pinned to the original's
    `code`) as `run_id`, with `params` merged over the original's key by key, and `tag` and
    `timeout_sec` in place of the original's when given. The new run's
    `rerun_of` names the original. Any run may be run again, whatever its status. Rate and
    queue limits are those of `POST /runs`; an Idempotency-Key works the same way.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        idempotency_key (str | Unset):
        body (RerunRequest | Unset): What to change for the new run: `params` are merged over the
            original run's, key by
            key; `tag` routes it to another tag than the original's; `timeout_sec` replaces the
            original's time limit (a run that timed out, run again with more time).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunAccepted
    """

    return sync_detailed(
        run_id=run_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RerunRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | RunAccepted]:
    """Run a run again, as a new run

     Submits a new run with the same flow (the same flow.yaml for a YAML run), params, tag,
    labels, time limit, retry policy and code versions (`requires` pinned to the original's
    `code`) as `run_id`, with `params` merged over the original's key by key, and `tag` and
    `timeout_sec` in place of the original's when given. The new run's
    `rerun_of` names the original. Any run may be run again, whatever its status. Rate and
    queue limits are those of `POST /runs`; an Idempotency-Key works the same way.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        idempotency_key (str | Unset):
        body (RerunRequest | Unset): What to change for the new run: `params` are merged over the
            original run's, key by
            key; `tag` routes it to another tag than the original's; `timeout_sec` replaces the
            original's time limit (a run that timed out, run again with more time).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunAccepted]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RerunRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Problem | RunAccepted | None:
    """Run a run again, as a new run

     Submits a new run with the same flow (the same flow.yaml for a YAML run), params, tag,
    labels, time limit, retry policy and code versions (`requires` pinned to the original's
    `code`) as `run_id`, with `params` merged over the original's key by key, and `tag` and
    `timeout_sec` in place of the original's when given. The new run's
    `rerun_of` names the original. Any run may be run again, whatever its status. Rate and
    queue limits are those of `POST /runs`; an Idempotency-Key works the same way.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        idempotency_key (str | Unset):
        body (RerunRequest | Unset): What to change for the new run: `params` are merged over the
            original run's, key by
            key; `tag` routes it to another tag than the original's; `timeout_sec` replaces the
            original's time limit (a run that timed out, run again with more time).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunAccepted
    """

    return (
        await asyncio_detailed(
            run_id=run_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
