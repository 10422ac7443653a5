from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.run_accepted import RunAccepted
from ...models.run_yaml_submit_request import RunYamlSubmitRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: RunYamlSubmitRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/runs/yaml",
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

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
    *,
    client: AuthenticatedClient | Client,
    body: RunYamlSubmitRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | RunAccepted]:
    """Submit a run of a flow.yaml workflow

     Uploads a single-flow `flow.yaml` (pyoco 0.8 format) and queues a run of it. The file is
    validated before anything is stored: a file that is not UTF-8 YAML, does not follow the
    format, or whose graph does not parse is refused with 422 and the reason. `params`, a JSON
    object, overrides `flow.defaults` key by key. The form takes one file and the fields
    below, each at most twice PYOCO_MAX_RUN_SNAPSHOT_BYTES long. Rate and queue limits are
    those of `POST /runs`.

    Args:
        idempotency_key (str | Unset):
        body (RunYamlSubmitRequest): The multipart form of POST /runs/yaml. `params` (a Params
            object whose keys override
            `flow.defaults`) and `retry` (a RetryPolicy) are parts holding JSON text, declared
            `application/json` in the operation's `encoding`; a blank part counts as absent, text
            that is not a JSON object is a 400 `invalid_input`. When the flow declares params (keys
            of `flow.defaults`, `$ctx.params.NAME` in task inputs or graph expressions), a key
            outside them is refused (422 `unknown_params`), so a typo cannot silently run with the
            default; a flow that declares none takes any params.
             Example: {'workflow': 'version: 1\\nflow:\\n  graph: add_one >> to_text\\n  defaults: {x:
            1}\\ntasks:\\n  add_one: {callable: "pyoco_server._workflow_test_tasks:add_one"}\\n
            to_text: {callable: "pyoco_server._workflow_test_tasks:to_text"}\\n', 'flow_name': 'main',
            'tag': 'default', 'params': {'x': 2}, 'retry': {'max_attempts': 3, 'backoff_sec': 1}}.

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
    body: RunYamlSubmitRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | RunAccepted | None:
    """Submit a run of a flow.yaml workflow

     Uploads a single-flow `flow.yaml` (pyoco 0.8 format) and queues a run of it. The file is
    validated before anything is stored: a file that is not UTF-8 YAML, does not follow the
    format, or whose graph does not parse is refused with 422 and the reason. `params`, a JSON
    object, overrides `flow.defaults` key by key. The form takes one file and the fields
    below, each at most twice PYOCO_MAX_RUN_SNAPSHOT_BYTES long. Rate and queue limits are
    those of `POST /runs`.

    Args:
        idempotency_key (str | Unset):
        body (RunYamlSubmitRequest): The multipart form of POST /runs/yaml. `params` (a Params
            object whose keys override
            `flow.defaults`) and `retry` (a RetryPolicy) are parts holding JSON text, declared
            `application/json` in the operation's `encoding`; a blank part counts as absent, text
            that is not a JSON object is a 400 `invalid_input`. When the flow declares params (keys
            of `flow.defaults`, `$ctx.params.NAME` in task inputs or graph expressions), a key
            outside them is refused (422 `unknown_params`), so a typo cannot silently run with the
            default; a flow that declares none takes any params.
             Example: {'workflow': 'version: 1\\nflow:\\n  graph: add_one >> to_text\\n  defaults: {x:
            1}\\ntasks:\\n  add_one: {callable: "pyoco_server._workflow_test_tasks:add_one"}\\n
            to_text: {callable: "pyoco_server._workflow_test_tasks:to_text"}\\n', 'flow_name': 'main',
            'tag': 'default', 'params': {'x': 2}, 'retry': {'max_attempts': 3, 'backoff_sec': 1}}.

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
    body: RunYamlSubmitRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | RunAccepted]:
    """Submit a run of a flow.yaml workflow

     Uploads a single-flow `flow.yaml` (pyoco 0.8 format) and queues a run of it. The file is
    validated before anything is stored: a file that is not UTF-8 YAML, does not follow the
    format, or whose graph does not parse is refused with 422 and the reason. `params`, a JSON
    object, overrides `flow.defaults` key by key. The form takes one file and the fields
    below, each at most twice PYOCO_MAX_RUN_SNAPSHOT_BYTES long. Rate and queue limits are
    those of `POST /runs`.

    Args:
        idempotency_key (str | Unset):
        body (RunYamlSubmitRequest): The multipart form of POST /runs/yaml. `params` (a Params
            object whose keys override
            `flow.defaults`) and `retry` (a RetryPolicy) are parts holding JSON text, declared
            `application/json` in the operation's `encoding`; a blank part counts as absent, text
            that is not a JSON object is a 400 `invalid_input`. When the flow declares params (keys
            of `flow.defaults`, `$ctx.params.NAME` in task inputs or graph expressions), a key
            outside them is refused (422 `unknown_params`), so a typo cannot silently run with the
            default; a flow that declares none takes any params.
             Example: {'workflow': 'version: 1\\nflow:\\n  graph: add_one >> to_text\\n  defaults: {x:
            1}\\ntasks:\\n  add_one: {callable: "pyoco_server._workflow_test_tasks:add_one"}\\n
            to_text: {callable: "pyoco_server._workflow_test_tasks:to_text"}\\n', 'flow_name': 'main',
            'tag': 'default', 'params': {'x': 2}, 'retry': {'max_attempts': 3, 'backoff_sec': 1}}.

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
    body: RunYamlSubmitRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | RunAccepted | None:
    """Submit a run of a flow.yaml workflow

     Uploads a single-flow `flow.yaml` (pyoco 0.8 format) and queues a run of it. The file is
    validated before anything is stored: a file that is not UTF-8 YAML, does not follow the
    format, or whose graph does not parse is refused with 422 and the reason. `params`, a JSON
    object, overrides `flow.defaults` key by key. The form takes one file and the fields
    below, each at most twice PYOCO_MAX_RUN_SNAPSHOT_BYTES long. Rate and queue limits are
    those of `POST /runs`.

    Args:
        idempotency_key (str | Unset):
        body (RunYamlSubmitRequest): The multipart form of POST /runs/yaml. `params` (a Params
            object whose keys override
            `flow.defaults`) and `retry` (a RetryPolicy) are parts holding JSON text, declared
            `application/json` in the operation's `encoding`; a blank part counts as absent, text
            that is not a JSON object is a 400 `invalid_input`. When the flow declares params (keys
            of `flow.defaults`, `$ctx.params.NAME` in task inputs or graph expressions), a key
            outside them is refused (422 `unknown_params`), so a typo cannot silently run with the
            default; a flow that declares none takes any params.
             Example: {'workflow': 'version: 1\\nflow:\\n  graph: add_one >> to_text\\n  defaults: {x:
            1}\\ntasks:\\n  add_one: {callable: "pyoco_server._workflow_test_tasks:add_one"}\\n
            to_text: {callable: "pyoco_server._workflow_test_tasks:to_text"}\\n', 'flow_name': 'main',
            'tag': 'default', 'params': {'x': 2}, 'retry': {'max_attempts': 3, 'backoff_sec': 1}}.

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
