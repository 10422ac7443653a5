"""Operations of the `runs` tag: submit runs and read their snapshots."""

from __future__ import annotations

from typing import Any

from connexion import request
from starlette.datastructures import UploadFile

from pyoco_server.codec import loads, retry_from_dict, snapshot_to_dict
from pyoco_server.contracts import validate_openapi_schema
from pyoco_server.errors import ContractError, InvalidInput, PayloadTooLarge
from pyoco_server.gateway.responses import Reply, json_reply
from pyoco_server.messages import RetryPolicy
from pyoco_server.runs import RunService, Submission
from pyoco_server.settings import Settings
from pyoco_server.snapshot import RunSnapshot
from pyoco_server.workflow import parse_workflow

_RECORDS = frozenset({"records", "task_records", "all", "full"})


class RunsApi:
    """Handlers of `/runs*`; each method is the operationId of one operation."""

    def __init__(self, service: RunService, settings: Settings) -> None:
        self._service = service
        self._settings = settings

    async def submit_run(self, body: dict[str, Any]) -> Reply:
        """`POST /runs`."""
        submission = Submission(
            flow_name=body["flow_name"],
            params=body.get("params") or {},
            tag=body.get("tag"),
            tags=body.get("tags") or (),
            timeout_sec=body.get("timeout_sec"),
            retry=retry_from_dict(body.get("retry")),
        )
        return _accepted(await self._service.submit(submission))

    async def submit_run_yaml(self, body: dict[str, Any], workflow: Any) -> Reply:
        """`POST /runs/yaml` (multipart: workflow file, flow_name, tag, params)."""
        raw = await self._read_upload(workflow)
        parsed = parse_workflow(raw)
        params = {**parsed.defaults, **_form_params(body.get("params"))}
        submission = Submission(
            flow_name=body["flow_name"],
            params=params,
            tag=body.get("tag") or None,
            workflow=parsed,
            timeout_sec=_form_number(body.get("timeout_sec"), "timeout_sec"),
            retry=_form_retry(body.get("retry")),
        )
        return _accepted(await self._service.submit(submission))

    async def _read_upload(self, workflow: Any) -> bytes:
        limit = self._settings.workflow_yaml_max_bytes
        if isinstance(workflow, UploadFile):
            raw = await workflow.read(limit + 1)
        elif isinstance(workflow, (bytes, str)):
            raw = workflow.encode() if isinstance(workflow, str) else workflow
        else:
            raise InvalidInput("send the flow.yaml file as form field 'workflow'")
        if len(raw) > limit:
            size = workflow.size if isinstance(workflow, UploadFile) and workflow.size else len(raw)
            raise PayloadTooLarge("the workflow file", size, limit, "PYOCO_WORKFLOW_YAML_MAX_BYTES")
        return raw

    async def get_run(self, run_id: str, include: list[str] | None = None) -> Reply:
        """`GET /runs/{run_id}`."""
        stored = await self._service.get(run_id)
        return json_reply(_view(stored.snapshot, records=bool(_RECORDS & set(include or ()))))

    async def cancel_run(self, run_id: str, body: Any = None) -> Reply:
        """`POST /runs/{run_id}/cancel`.

        The body is optional; without one, Connexion passes the raw, empty bytes.
        """
        reason = body.get("reason") if isinstance(body, dict) else None
        snapshot = await self._service.cancel(run_id, requested_by=_requester(), reason=reason)
        return json_reply(_view(snapshot, records=False))

    async def get_run_tasks(self, run_id: str) -> Reply:
        """`GET /runs/{run_id}/tasks`."""
        snapshot = (await self._service.get(run_id)).snapshot
        data = snapshot_to_dict(snapshot)
        return json_reply(
            {
                key: data[key]
                for key in (
                    "run_id",
                    "flow_name",
                    "status",
                    "tasks",
                    "task_records",
                    "task_records_truncated",
                )
            }
        )


def _accepted(snapshot: RunSnapshot) -> Reply:
    body = {
        "run_id": snapshot.run_id,
        "status": snapshot.status.value,
        "flow_name": snapshot.flow_name,
        "tag": snapshot.tag,
    }
    return json_reply(body, 201, Location=f"/runs/{snapshot.run_id}")


def _view(snapshot: RunSnapshot, *, records: bool) -> dict[str, Any]:
    data = snapshot_to_dict(snapshot)
    if not records:
        data.pop("task_records")
        data.pop("task_records_truncated")
    return data


def _requester() -> str | None:
    """Who is asking, for the record: the API key once auth is on, else the client address."""
    client = request.client
    return f"address:{client.host}" if client and client.host else None


def _form_params(raw: str | None) -> dict[str, Any]:
    return _form_object(raw, "params", '{"x": 2}')


def _form_object(raw: str | None, field: str, example: str) -> dict[str, Any]:
    if raw is None or not raw.strip():
        return {}
    try:
        value = loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"form field {field!r} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"form field {field!r} must be a JSON object such as {example}")
    return value


def _form_retry(raw: str | None) -> RetryPolicy | None:
    data = _form_object(raw, "retry", '{"max_attempts": 3}')
    if not data:
        return None
    try:
        validate_openapi_schema("RetryPolicy", data)
    except ContractError as exc:
        raise InvalidInput(f"form field 'retry' is not a retry policy: {exc.detail}") from None
    return retry_from_dict(data)


def _form_number(raw: Any, field: str) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InvalidInput(f"form field {field!r} must be a number of seconds") from None
    if not 0 < value <= 604800:
        raise InvalidInput(f"form field {field!r} must be more than 0 and at most 604800")
    return value
