from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.run_heartbeat_event import RunHeartbeatEvent
from ...models.run_snapshot_event import RunSnapshotEvent
from ...models.watch_run_include_item import WatchRunIncludeItem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    run_id: str,
    *,
    include: list[WatchRunIncludeItem] | Unset = UNSET,
    timeout_sec: float | Unset = 60.0,
    last_event_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id, Unset):
        headers["Last-Event-ID"] = last_event_id

    params: dict[str, Any] = {}

    json_include: list[str] | Unset = UNSET
    if not isinstance(include, Unset):
        json_include = []
        for include_item_data in include:
            include_item: str = include_item_data
            json_include.append(include_item)

    params["include"] = json_include

    params["timeout_sec"] = timeout_sec

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/runs/{run_id}/watch".format(
            run_id=quote(str(run_id), safe=""),
        ),
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | RunHeartbeatEvent | RunSnapshotEvent:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> RunHeartbeatEvent | RunSnapshotEvent:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_run_event_type_0 = RunSnapshotEvent.from_dict(data)

                return componentsschemas_run_event_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_run_event_type_1 = RunHeartbeatEvent.from_dict(data)

            return componentsschemas_run_event_type_1

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

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

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
) -> Response[Problem | RunHeartbeatEvent | RunSnapshotEvent]:
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
    include: list[WatchRunIncludeItem] | Unset = UNSET,
    timeout_sec: float | Unset = 60.0,
    last_event_id: str | Unset = UNSET,
) -> Response[Problem | RunHeartbeatEvent | RunSnapshotEvent]:
    """Follow a run as server-sent events

     Pushes the run's snapshot as it changes, driven by a watch on the runs bucket (no
    polling): the current snapshot first, then every change as it happens, a `heartbeat`
    event every 15 s of silence, and the stream ends after the terminal snapshot or after
    `timeout_sec`. Each snapshot event's `id` is the snapshot's revision; reconnect with the
    `Last-Event-ID` header to resume: the revisions written since are sent first (from the
    bucket's history), so no change is lost. Events are RunEvent (wire format: SseEvent):
    a `snapshot` event's data is a WatchSnapshot, a `heartbeat` event's a WatchHeartbeat.
    A client that reads more
    slowly than the run changes gets the latest snapshot, not every intermediate one. Open
    streams are limited per gateway process (PYOCO_WATCH_MAX_STREAMS) and per API key
    (PYOCO_WATCH_MAX_STREAMS_PER_KEY); beyond, the answer is 429 `too_many_watches`.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        include (list[WatchRunIncludeItem] | Unset):
        timeout_sec (float | Unset):  Default: 60.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunHeartbeatEvent | RunSnapshotEvent]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        include=include,
        timeout_sec=timeout_sec,
        last_event_id=last_event_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    include: list[WatchRunIncludeItem] | Unset = UNSET,
    timeout_sec: float | Unset = 60.0,
    last_event_id: str | Unset = UNSET,
) -> Problem | RunHeartbeatEvent | RunSnapshotEvent | None:
    """Follow a run as server-sent events

     Pushes the run's snapshot as it changes, driven by a watch on the runs bucket (no
    polling): the current snapshot first, then every change as it happens, a `heartbeat`
    event every 15 s of silence, and the stream ends after the terminal snapshot or after
    `timeout_sec`. Each snapshot event's `id` is the snapshot's revision; reconnect with the
    `Last-Event-ID` header to resume: the revisions written since are sent first (from the
    bucket's history), so no change is lost. Events are RunEvent (wire format: SseEvent):
    a `snapshot` event's data is a WatchSnapshot, a `heartbeat` event's a WatchHeartbeat.
    A client that reads more
    slowly than the run changes gets the latest snapshot, not every intermediate one. Open
    streams are limited per gateway process (PYOCO_WATCH_MAX_STREAMS) and per API key
    (PYOCO_WATCH_MAX_STREAMS_PER_KEY); beyond, the answer is 429 `too_many_watches`.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        include (list[WatchRunIncludeItem] | Unset):
        timeout_sec (float | Unset):  Default: 60.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunHeartbeatEvent | RunSnapshotEvent
    """

    return sync_detailed(
        run_id=run_id,
        client=client,
        include=include,
        timeout_sec=timeout_sec,
        last_event_id=last_event_id,
    ).parsed


async def asyncio_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    include: list[WatchRunIncludeItem] | Unset = UNSET,
    timeout_sec: float | Unset = 60.0,
    last_event_id: str | Unset = UNSET,
) -> Response[Problem | RunHeartbeatEvent | RunSnapshotEvent]:
    """Follow a run as server-sent events

     Pushes the run's snapshot as it changes, driven by a watch on the runs bucket (no
    polling): the current snapshot first, then every change as it happens, a `heartbeat`
    event every 15 s of silence, and the stream ends after the terminal snapshot or after
    `timeout_sec`. Each snapshot event's `id` is the snapshot's revision; reconnect with the
    `Last-Event-ID` header to resume: the revisions written since are sent first (from the
    bucket's history), so no change is lost. Events are RunEvent (wire format: SseEvent):
    a `snapshot` event's data is a WatchSnapshot, a `heartbeat` event's a WatchHeartbeat.
    A client that reads more
    slowly than the run changes gets the latest snapshot, not every intermediate one. Open
    streams are limited per gateway process (PYOCO_WATCH_MAX_STREAMS) and per API key
    (PYOCO_WATCH_MAX_STREAMS_PER_KEY); beyond, the answer is 429 `too_many_watches`.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        include (list[WatchRunIncludeItem] | Unset):
        timeout_sec (float | Unset):  Default: 60.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RunHeartbeatEvent | RunSnapshotEvent]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        include=include,
        timeout_sec=timeout_sec,
        last_event_id=last_event_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    include: list[WatchRunIncludeItem] | Unset = UNSET,
    timeout_sec: float | Unset = 60.0,
    last_event_id: str | Unset = UNSET,
) -> Problem | RunHeartbeatEvent | RunSnapshotEvent | None:
    """Follow a run as server-sent events

     Pushes the run's snapshot as it changes, driven by a watch on the runs bucket (no
    polling): the current snapshot first, then every change as it happens, a `heartbeat`
    event every 15 s of silence, and the stream ends after the terminal snapshot or after
    `timeout_sec`. Each snapshot event's `id` is the snapshot's revision; reconnect with the
    `Last-Event-ID` header to resume: the revisions written since are sent first (from the
    bucket's history), so no change is lost. Events are RunEvent (wire format: SseEvent):
    a `snapshot` event's data is a WatchSnapshot, a `heartbeat` event's a WatchHeartbeat.
    A client that reads more
    slowly than the run changes gets the latest snapshot, not every intermediate one. Open
    streams are limited per gateway process (PYOCO_WATCH_MAX_STREAMS) and per API key
    (PYOCO_WATCH_MAX_STREAMS_PER_KEY); beyond, the answer is 429 `too_many_watches`.

    Args:
        run_id (str): A run id (a UUID4 string for runs created by this server). Example:
            0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70.
        include (list[WatchRunIncludeItem] | Unset):
        timeout_sec (float | Unset):  Default: 60.0.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RunHeartbeatEvent | RunSnapshotEvent
    """

    return (
        await asyncio_detailed(
            run_id=run_id,
            client=client,
            include=include,
            timeout_sec=timeout_sec,
            last_event_id=last_event_id,
        )
    ).parsed
