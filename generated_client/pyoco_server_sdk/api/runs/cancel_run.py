from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.cancel_request import CancelRequest
from ...models.problem import Problem
from ...models.run_snapshot import RunSnapshot
from ...types import UNSET, Response, Unset


def _get_kwargs(
    run_id: str,
    *,
    body: CancelRequest | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/runs/{run_id}/cancel".format(
            run_id=quote(str(run_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | RunSnapshot:
    if response.status_code == 200:
        response_200 = RunSnapshot.from_dict(response.json())

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
) -> Response[Problem | RunSnapshot]:
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
    body: CancelRequest | Unset = UNSET,
) -> Response[Problem | RunSnapshot]:
    """Cancel a run

     A PENDING run becomes CANCELLED at once and never runs. A RUNNING run becomes
    CANCELLING; its worker is told at once, asks pyoco to stop, then terminates and finally
    kills the run's process after PYOCO_CANCEL_GRACE_PERIOD_SEC (10 s by default; the
    snapshot's `stopping.deadline_at` says when), and the run ends CANCELLED.
    A run that already ended is returned unchanged, so the call is idempotent. The reason
    and who asked are recorded in the snapshot.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        body (CancelRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunSnapshot]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CancelRequest | Unset = UNSET,
) -> Problem | RunSnapshot | None:
    """Cancel a run

     A PENDING run becomes CANCELLED at once and never runs. A RUNNING run becomes
    CANCELLING; its worker is told at once, asks pyoco to stop, then terminates and finally
    kills the run's process after PYOCO_CANCEL_GRACE_PERIOD_SEC (10 s by default; the
    snapshot's `stopping.deadline_at` says when), and the run ends CANCELLED.
    A run that already ended is returned unchanged, so the call is idempotent. The reason
    and who asked are recorded in the snapshot.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        body (CancelRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunSnapshot
    """

    return sync_detailed(
        run_id=run_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CancelRequest | Unset = UNSET,
) -> Response[Problem | RunSnapshot]:
    """Cancel a run

     A PENDING run becomes CANCELLED at once and never runs. A RUNNING run becomes
    CANCELLING; its worker is told at once, asks pyoco to stop, then terminates and finally
    kills the run's process after PYOCO_CANCEL_GRACE_PERIOD_SEC (10 s by default; the
    snapshot's `stopping.deadline_at` says when), and the run ends CANCELLED.
    A run that already ended is returned unchanged, so the call is idempotent. The reason
    and who asked are recorded in the snapshot.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        body (CancelRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunSnapshot]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CancelRequest | Unset = UNSET,
) -> Problem | RunSnapshot | None:
    """Cancel a run

     A PENDING run becomes CANCELLED at once and never runs. A RUNNING run becomes
    CANCELLING; its worker is told at once, asks pyoco to stop, then terminates and finally
    kills the run's process after PYOCO_CANCEL_GRACE_PERIOD_SEC (10 s by default; the
    snapshot's `stopping.deadline_at` says when), and the run ends CANCELLED.
    A run that already ended is returned unchanged, so the call is idempotent. The reason
    and who asked are recorded in the snapshot.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        body (CancelRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunSnapshot
    """

    return (
        await asyncio_detailed(
            run_id=run_id,
            client=client,
            body=body,
        )
    ).parsed
