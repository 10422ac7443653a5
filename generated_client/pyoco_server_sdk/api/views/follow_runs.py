from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.run_list_counts_event import RunListCountsEvent
from ...models.run_list_heartbeat_event import RunListHeartbeatEvent
from ...models.run_list_reset_event import RunListResetEvent
from ...models.run_list_run_event import RunListRunEvent
from ...models.run_status import RunStatus
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    status: RunStatus | Unset = UNSET,
    flow: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    label: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    timeout_sec: float | Unset = 3600.0,
    last_event_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id, Unset):
        headers["Last-Event-ID"] = last_event_id

    params: dict[str, Any] = {}

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status

    params["status"] = json_status

    params["flow"] = flow

    params["tag"] = tag

    params["label"] = label

    params["tenant"] = tenant

    params["timeout_sec"] = timeout_sec

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/runs/events",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | RunListCountsEvent | RunListHeartbeatEvent | RunListResetEvent | RunListRunEvent:
    if response.status_code == 200:

        def _parse_response_200(
            data: object,
        ) -> RunListCountsEvent | RunListHeartbeatEvent | RunListResetEvent | RunListRunEvent:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_run_list_event_type_0 = RunListRunEvent.from_dict(data)

                return componentsschemas_run_list_event_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_run_list_event_type_1 = RunListCountsEvent.from_dict(data)

                return componentsschemas_run_list_event_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_run_list_event_type_2 = RunListResetEvent.from_dict(data)

                return componentsschemas_run_list_event_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_run_list_event_type_3 = RunListHeartbeatEvent.from_dict(data)

            return componentsschemas_run_list_event_type_3

        response_200 = _parse_response_200(response.text)

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
) -> Response[Problem | RunListCountsEvent | RunListHeartbeatEvent | RunListResetEvent | RunListRunEvent]:
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
    flow: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    label: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    timeout_sec: float | Unset = 3600.0,
    last_event_id: str | Unset = UNSET,
) -> Response[Problem | RunListCountsEvent | RunListHeartbeatEvent | RunListResetEvent | RunListRunEvent]:
    """Follow the run list as server-sent events

     Pushes changes to the runs the caller may see (its tenant's; every tenant's, or the
    `tenant` given, for admin keys), filtered like `GET /runs`, so a list stays current
    without polling. The stream starts with a `counts` event (runs by status), then sends a
    `run` event (data: a RunSummary; id: the change's position) for every run that is
    submitted or changes, a `counts` event at most once a second while they change, a
    `heartbeat` event every 15 s of silence, and ends after `timeout_sec` (RunListEvent;
    wire format: SseEvent). Every stream of a
    gateway process is fed from the one watch that feeds its run index, so many open
    streams cost little more than one; a client that reads slowly gets the latest state of
    each run, not every step.

    Reconnect with `Last-Event-ID` to resume: the runs changed since are sent first. When
    that position is too old to resume from, a `reset` event says to reload the list with
    `GET /runs` and the stream goes on from now. Open streams count against the watch
    limits (429 `too_many_watches`).

    Args:
        status (RunStatus | Unset): Status of a run. COMPLETED, FAILED and CANCELLED are terminal;
            CANCELLING means a cancel
            was requested and the worker is stopping the run.
        flow (str | Unset): Name of the flow to run; printable text with at least one non-blank
            character. Example: main.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        label (str | Unset): A label stored with a run (metadata; routing uses `tag` only).
            Example: nightly.
        tenant (str | Unset): A tenant id (the tenant of an API key). Example: acme.
        timeout_sec (float | Unset):  Default: 3600.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunListCountsEvent | RunListHeartbeatEvent | RunListResetEvent | RunListRunEvent]
    """

    kwargs = _get_kwargs(
        status=status,
        flow=flow,
        tag=tag,
        label=label,
        tenant=tenant,
        timeout_sec=timeout_sec,
        last_event_id=last_event_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    status: RunStatus | Unset = UNSET,
    flow: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    label: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    timeout_sec: float | Unset = 3600.0,
    last_event_id: str | Unset = UNSET,
) -> Problem | RunListCountsEvent | RunListHeartbeatEvent | RunListResetEvent | RunListRunEvent | None:
    """Follow the run list as server-sent events

     Pushes changes to the runs the caller may see (its tenant's; every tenant's, or the
    `tenant` given, for admin keys), filtered like `GET /runs`, so a list stays current
    without polling. The stream starts with a `counts` event (runs by status), then sends a
    `run` event (data: a RunSummary; id: the change's position) for every run that is
    submitted or changes, a `counts` event at most once a second while they change, a
    `heartbeat` event every 15 s of silence, and ends after `timeout_sec` (RunListEvent;
    wire format: SseEvent). Every stream of a
    gateway process is fed from the one watch that feeds its run index, so many open
    streams cost little more than one; a client that reads slowly gets the latest state of
    each run, not every step.

    Reconnect with `Last-Event-ID` to resume: the runs changed since are sent first. When
    that position is too old to resume from, a `reset` event says to reload the list with
    `GET /runs` and the stream goes on from now. Open streams count against the watch
    limits (429 `too_many_watches`).

    Args:
        status (RunStatus | Unset): Status of a run. COMPLETED, FAILED and CANCELLED are terminal;
            CANCELLING means a cancel
            was requested and the worker is stopping the run.
        flow (str | Unset): Name of the flow to run; printable text with at least one non-blank
            character. Example: main.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        label (str | Unset): A label stored with a run (metadata; routing uses `tag` only).
            Example: nightly.
        tenant (str | Unset): A tenant id (the tenant of an API key). Example: acme.
        timeout_sec (float | Unset):  Default: 3600.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunListCountsEvent | RunListHeartbeatEvent | RunListResetEvent | RunListRunEvent
    """

    return sync_detailed(
        client=client,
        status=status,
        flow=flow,
        tag=tag,
        label=label,
        tenant=tenant,
        timeout_sec=timeout_sec,
        last_event_id=last_event_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    status: RunStatus | Unset = UNSET,
    flow: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    label: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    timeout_sec: float | Unset = 3600.0,
    last_event_id: str | Unset = UNSET,
) -> Response[Problem | RunListCountsEvent | RunListHeartbeatEvent | RunListResetEvent | RunListRunEvent]:
    """Follow the run list as server-sent events

     Pushes changes to the runs the caller may see (its tenant's; every tenant's, or the
    `tenant` given, for admin keys), filtered like `GET /runs`, so a list stays current
    without polling. The stream starts with a `counts` event (runs by status), then sends a
    `run` event (data: a RunSummary; id: the change's position) for every run that is
    submitted or changes, a `counts` event at most once a second while they change, a
    `heartbeat` event every 15 s of silence, and ends after `timeout_sec` (RunListEvent;
    wire format: SseEvent). Every stream of a
    gateway process is fed from the one watch that feeds its run index, so many open
    streams cost little more than one; a client that reads slowly gets the latest state of
    each run, not every step.

    Reconnect with `Last-Event-ID` to resume: the runs changed since are sent first. When
    that position is too old to resume from, a `reset` event says to reload the list with
    `GET /runs` and the stream goes on from now. Open streams count against the watch
    limits (429 `too_many_watches`).

    Args:
        status (RunStatus | Unset): Status of a run. COMPLETED, FAILED and CANCELLED are terminal;
            CANCELLING means a cancel
            was requested and the worker is stopping the run.
        flow (str | Unset): Name of the flow to run; printable text with at least one non-blank
            character. Example: main.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        label (str | Unset): A label stored with a run (metadata; routing uses `tag` only).
            Example: nightly.
        tenant (str | Unset): A tenant id (the tenant of an API key). Example: acme.
        timeout_sec (float | Unset):  Default: 3600.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunListCountsEvent | RunListHeartbeatEvent | RunListResetEvent | RunListRunEvent]
    """

    kwargs = _get_kwargs(
        status=status,
        flow=flow,
        tag=tag,
        label=label,
        tenant=tenant,
        timeout_sec=timeout_sec,
        last_event_id=last_event_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    status: RunStatus | Unset = UNSET,
    flow: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    label: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    timeout_sec: float | Unset = 3600.0,
    last_event_id: str | Unset = UNSET,
) -> Problem | RunListCountsEvent | RunListHeartbeatEvent | RunListResetEvent | RunListRunEvent | None:
    """Follow the run list as server-sent events

     Pushes changes to the runs the caller may see (its tenant's; every tenant's, or the
    `tenant` given, for admin keys), filtered like `GET /runs`, so a list stays current
    without polling. The stream starts with a `counts` event (runs by status), then sends a
    `run` event (data: a RunSummary; id: the change's position) for every run that is
    submitted or changes, a `counts` event at most once a second while they change, a
    `heartbeat` event every 15 s of silence, and ends after `timeout_sec` (RunListEvent;
    wire format: SseEvent). Every stream of a
    gateway process is fed from the one watch that feeds its run index, so many open
    streams cost little more than one; a client that reads slowly gets the latest state of
    each run, not every step.

    Reconnect with `Last-Event-ID` to resume: the runs changed since are sent first. When
    that position is too old to resume from, a `reset` event says to reload the list with
    `GET /runs` and the stream goes on from now. Open streams count against the watch
    limits (429 `too_many_watches`).

    Args:
        status (RunStatus | Unset): Status of a run. COMPLETED, FAILED and CANCELLED are terminal;
            CANCELLING means a cancel
            was requested and the worker is stopping the run.
        flow (str | Unset): Name of the flow to run; printable text with at least one non-blank
            character. Example: main.
        tag (str | Unset): A routing tag; one subject token of letters, digits, `_` and `-`.
            Example: default.
        label (str | Unset): A label stored with a run (metadata; routing uses `tag` only).
            Example: nightly.
        tenant (str | Unset): A tenant id (the tenant of an API key). Example: acme.
        timeout_sec (float | Unset):  Default: 3600.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunListCountsEvent | RunListHeartbeatEvent | RunListResetEvent | RunListRunEvent
    """

    return (
        await asyncio_detailed(
            client=client,
            status=status,
            flow=flow,
            tag=tag,
            label=label,
            tenant=tenant,
            timeout_sec=timeout_sec,
            last_event_id=last_event_id,
        )
    ).parsed
