from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.run_page import RunPage
from ...models.run_status import RunStatus
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    status: RunStatus | Unset = UNSET,
    run_id_prefix: str | Unset = UNSET,
    label: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    flow: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    updated_after: float | Unset = UNSET,
    workflow_yaml_sha256: str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status

    params["status"] = json_status

    params["run_id_prefix"] = run_id_prefix

    params["label"] = label

    params["tenant"] = tenant

    params["flow"] = flow

    params["tag"] = tag

    params["updated_after"] = updated_after

    params["workflow_yaml_sha256"] = workflow_yaml_sha256

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/runs",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | RunPage:
    if response.status_code == 200:
        response_200 = RunPage.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | RunPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    status: RunStatus | Unset = UNSET,
    run_id_prefix: str | Unset = UNSET,
    label: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    flow: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    updated_after: float | Unset = UNSET,
    workflow_yaml_sha256: str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[Problem | RunPage]:
    """List runs, newest first

     Runs ordered by submission time, newest first (ties by run id), from an index each gateway
    keeps in memory, fed by a watch on the runs bucket: a page costs O(limit), however many
    runs are stored. The cursor points between two runs of that order, which never changes,
    so paging never skips or repeats a run, even while runs change state; runs submitted after
    the first page appear at the top, not in later pages. `updated_after` is checked on the
    candidates the other filters leave; a page reads at most a bounded number of them, so a
    rare match can come with a short page and a cursor. With API keys on, only the caller's
    tenant's runs are listed, unless the key is an admin key: admin keys list every tenant's
    runs, or one tenant's with `tenant`. Runs submitted while keys were off belong to the
    tenant PYOCO_DEFAULT_TENANT.

    Args:
        status (RunStatus | Unset): Status of a run. COMPLETED, FAILED and CANCELLED are terminal;
            CANCELLING means a cancel
            was requested and the worker is stopping the run.
        run_id_prefix (str | Unset):
        label (str | Unset): A label stored with a run (metadata; routing uses `tag` only).
            Example: nightly.
        tenant (str | Unset): A tenant id (the tenant of an API key). Example: acme.
        flow (str | Unset): Name of the flow to run; printable text with at least one non-blank
            character. Example: main.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        updated_after (float | Unset):
        workflow_yaml_sha256 (str | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunPage]
    """

    kwargs = _get_kwargs(
        status=status,
        run_id_prefix=run_id_prefix,
        label=label,
        tenant=tenant,
        flow=flow,
        tag=tag,
        updated_after=updated_after,
        workflow_yaml_sha256=workflow_yaml_sha256,
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
    status: RunStatus | Unset = UNSET,
    run_id_prefix: str | Unset = UNSET,
    label: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    flow: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    updated_after: float | Unset = UNSET,
    workflow_yaml_sha256: str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Problem | RunPage | None:
    """List runs, newest first

     Runs ordered by submission time, newest first (ties by run id), from an index each gateway
    keeps in memory, fed by a watch on the runs bucket: a page costs O(limit), however many
    runs are stored. The cursor points between two runs of that order, which never changes,
    so paging never skips or repeats a run, even while runs change state; runs submitted after
    the first page appear at the top, not in later pages. `updated_after` is checked on the
    candidates the other filters leave; a page reads at most a bounded number of them, so a
    rare match can come with a short page and a cursor. With API keys on, only the caller's
    tenant's runs are listed, unless the key is an admin key: admin keys list every tenant's
    runs, or one tenant's with `tenant`. Runs submitted while keys were off belong to the
    tenant PYOCO_DEFAULT_TENANT.

    Args:
        status (RunStatus | Unset): Status of a run. COMPLETED, FAILED and CANCELLED are terminal;
            CANCELLING means a cancel
            was requested and the worker is stopping the run.
        run_id_prefix (str | Unset):
        label (str | Unset): A label stored with a run (metadata; routing uses `tag` only).
            Example: nightly.
        tenant (str | Unset): A tenant id (the tenant of an API key). Example: acme.
        flow (str | Unset): Name of the flow to run; printable text with at least one non-blank
            character. Example: main.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        updated_after (float | Unset):
        workflow_yaml_sha256 (str | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunPage
    """

    return sync_detailed(
        client=client,
        status=status,
        run_id_prefix=run_id_prefix,
        label=label,
        tenant=tenant,
        flow=flow,
        tag=tag,
        updated_after=updated_after,
        workflow_yaml_sha256=workflow_yaml_sha256,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    status: RunStatus | Unset = UNSET,
    run_id_prefix: str | Unset = UNSET,
    label: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    flow: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    updated_after: float | Unset = UNSET,
    workflow_yaml_sha256: str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[Problem | RunPage]:
    """List runs, newest first

     Runs ordered by submission time, newest first (ties by run id), from an index each gateway
    keeps in memory, fed by a watch on the runs bucket: a page costs O(limit), however many
    runs are stored. The cursor points between two runs of that order, which never changes,
    so paging never skips or repeats a run, even while runs change state; runs submitted after
    the first page appear at the top, not in later pages. `updated_after` is checked on the
    candidates the other filters leave; a page reads at most a bounded number of them, so a
    rare match can come with a short page and a cursor. With API keys on, only the caller's
    tenant's runs are listed, unless the key is an admin key: admin keys list every tenant's
    runs, or one tenant's with `tenant`. Runs submitted while keys were off belong to the
    tenant PYOCO_DEFAULT_TENANT.

    Args:
        status (RunStatus | Unset): Status of a run. COMPLETED, FAILED and CANCELLED are terminal;
            CANCELLING means a cancel
            was requested and the worker is stopping the run.
        run_id_prefix (str | Unset):
        label (str | Unset): A label stored with a run (metadata; routing uses `tag` only).
            Example: nightly.
        tenant (str | Unset): A tenant id (the tenant of an API key). Example: acme.
        flow (str | Unset): Name of the flow to run; printable text with at least one non-blank
            character. Example: main.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        updated_after (float | Unset):
        workflow_yaml_sha256 (str | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunPage]
    """

    kwargs = _get_kwargs(
        status=status,
        run_id_prefix=run_id_prefix,
        label=label,
        tenant=tenant,
        flow=flow,
        tag=tag,
        updated_after=updated_after,
        workflow_yaml_sha256=workflow_yaml_sha256,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    status: RunStatus | Unset = UNSET,
    run_id_prefix: str | Unset = UNSET,
    label: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    flow: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    updated_after: float | Unset = UNSET,
    workflow_yaml_sha256: str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Problem | RunPage | None:
    """List runs, newest first

     Runs ordered by submission time, newest first (ties by run id), from an index each gateway
    keeps in memory, fed by a watch on the runs bucket: a page costs O(limit), however many
    runs are stored. The cursor points between two runs of that order, which never changes,
    so paging never skips or repeats a run, even while runs change state; runs submitted after
    the first page appear at the top, not in later pages. `updated_after` is checked on the
    candidates the other filters leave; a page reads at most a bounded number of them, so a
    rare match can come with a short page and a cursor. With API keys on, only the caller's
    tenant's runs are listed, unless the key is an admin key: admin keys list every tenant's
    runs, or one tenant's with `tenant`. Runs submitted while keys were off belong to the
    tenant PYOCO_DEFAULT_TENANT.

    Args:
        status (RunStatus | Unset): Status of a run. COMPLETED, FAILED and CANCELLED are terminal;
            CANCELLING means a cancel
            was requested and the worker is stopping the run.
        run_id_prefix (str | Unset):
        label (str | Unset): A label stored with a run (metadata; routing uses `tag` only).
            Example: nightly.
        tenant (str | Unset): A tenant id (the tenant of an API key). Example: acme.
        flow (str | Unset): Name of the flow to run; printable text with at least one non-blank
            character. Example: main.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        updated_after (float | Unset):
        workflow_yaml_sha256 (str | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunPage
    """

    return (
        await asyncio_detailed(
            client=client,
            status=status,
            run_id_prefix=run_id_prefix,
            label=label,
            tenant=tenant,
            flow=flow,
            tag=tag,
            updated_after=updated_after,
            workflow_yaml_sha256=workflow_yaml_sha256,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
