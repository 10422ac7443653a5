"""Operations of the `runs` tag: submit, list, read, watch, run again and cancel runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import StreamingResponse

from pyoco_server.domain.codec import SNAPSHOT, retry_from_dict
from pyoco_server.domain.errors import InvalidInput, PayloadTooLarge, UnknownRequirement
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.gateway import forms
from pyoco_server.gateway._connexion import current_header, current_scope
from pyoco_server.gateway.access import current_principal, current_tenant, listed_tenant
from pyoco_server.gateway.responses import Reply, json_reply
from pyoco_server.gateway.runview import RunView
from pyoco_server.gateway.watch import Render, RunWatch, WatchSlots, render_view
from pyoco_server.gateway.workflows import WorkflowParser
from pyoco_server.services.idempotency import Accepted, IdempotentSubmits
from pyoco_server.services.index import Filters
from pyoco_server.services.runs import RunService, Submission, rerun_of

_RECORDS = frozenset({"records", "task_records", "all", "full"})
_TASK_FIELDS = ("run_id", "flow_name", "status", "tasks", "task_records", "task_records_truncated")

OnSubmitted = Callable[[str], None]


class RunsApi:
    """Handlers of `/runs*`; each method is the operationId of one operation."""

    def __init__(
        self,
        service: RunService,
        submits: IdempotentSubmits,
        view: RunView,
        settings: Settings,
        on_submitted: OnSubmitted | None = None,
        slots: WatchSlots | None = None,
        parser: WorkflowParser | None = None,
    ) -> None:
        self._service = service
        self._submits = submits
        self._view = view
        self._waits = view.waits
        if slots is None:  # shared with the other event streams when given
            slots = WatchSlots(settings.watch_max_streams, settings.watch_max_streams_per_key)
        self._watch = RunWatch(service, view.hub, slots, settings.sse_heartbeat_sec)
        # Shared with the other parsers' users when given: one bound on concurrent parses.
        self._parser = parser or WorkflowParser(settings.workflow_parse_concurrency)
        self._settings = settings
        self._on_submitted = on_submitted

    async def submit_run(self, body: dict[str, Any]) -> Reply:
        """`POST /runs`."""
        submission = _owned(
            Submission(
                flow_name=body["flow_name"],
                params=body.get("params") or {},
                tag=body.get("tag"),
                tags=body.get("tags") or (),
                timeout_sec=body.get("timeout_sec"),
                retry=retry_from_dict(body.get("retry")),
                requires=tuple(body.get("requires") or ()),
            )
        )
        return self._accepted(await self._submits.submit(submission, _idempotency_key()))

    async def submit_run_yaml(self, body: dict[str, Any], workflow: Any = None) -> Reply:
        """`POST /runs/yaml` (multipart: workflow file, flow_name, tag, params, ...).

        A `workflow` part sent without a file name (`curl -F 'workflow=<flow.yaml'`) reaches
        the handler as a form field, in `body`, not as a file.
        """
        if workflow is None:
            workflow = body.get("workflow")
        parsed = await self._parser.parse(await self._read_upload(workflow))
        submission = _owned(
            Submission(
                flow_name=body["flow_name"],
                params={**parsed.defaults, **forms.params(body.get("params"))},
                tag=body.get("tag") or None,
                tags=forms.labels(body.get("tags")),
                workflow=parsed,
                timeout_sec=forms.seconds(body.get("timeout_sec"), "timeout_sec"),
                retry=forms.retry(body.get("retry")),
                requires=forms.requirements(body.get("requires")),
            )
        )
        return self._accepted(await self._submits.submit(submission, _idempotency_key()))

    def _accepted(self, accepted: Accepted) -> Reply:
        """The 201 answer, with a warning when no live worker would take the run."""
        body = dict(accepted.response)
        pending = body["status"] == RunStatus.PENDING
        body["warnings"] = self._waits.submit_warnings(body["tag"]) if pending else []
        headers = {"Location": f"/runs/{accepted.run_id}"}
        if accepted.replayed:
            headers["Idempotent-Replayed"] = "true"
        elif self._on_submitted is not None:
            self._on_submitted(str(body["tag"]))
        return json_reply(body, 201, **headers)

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

    async def list_runs(
        self,
        status: str | None = None,
        run_id_prefix: str | None = None,
        label: str | None = None,
        tenant: str | None = None,
        flow: str | None = None,
        tag: str | None = None,
        updated_after: float | None = None,
        workflow_yaml_sha256: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Reply:
        """`GET /runs` (a user key may name only its own tenant: 403 `forbidden_tenant`)."""
        filters = Filters(
            status=status,
            flow_name=flow,
            tag=tag,
            tenant_id=listed_tenant(tenant),
            workflow_yaml_sha256=workflow_yaml_sha256,
            updated_after=updated_after,
            label=label,
            run_id_prefix=run_id_prefix,
        )
        page = self._view.page(filters, limit, cursor)
        return json_reply(
            {"items": [item.to_dict() for item in page.items], "next_cursor": page.next_cursor}
        )

    async def get_run(self, run_id: str, include: list[str] | None = None) -> Reply:
        """`GET /runs/{run_id}` (a PENDING run says why it waits)."""
        snapshot = (await self._service.get(run_id, current_tenant())).snapshot
        data = render_view(_records(include))(snapshot)
        waiting = await self._waits.explain(snapshot)
        if waiting is not None:
            data["waiting"] = waiting.to_dict()
        return json_reply(data)

    async def watch_run(
        self, run_id: str, include: list[str] | None = None, timeout_sec: float = 60.0
    ) -> StreamingResponse:
        """`GET /runs/{run_id}/watch` (server-sent events; PENDING snapshots say why they wait)."""
        principal = current_principal()
        summary = self._view.index.get(run_id)
        if summary is not None and summary.status == RunStatus.PENDING:
            await self._waits.warm(summary.tag)  # so that the first event can count the queue
        return await self._watch.open(
            run_id,
            tenant_id=current_tenant(),
            key_id=principal.key_id if principal else None,
            render=self._with_waiting(render_view(_records(include))),
            timeout_sec=timeout_sec,
            last_event_id=current_header(b"last-event-id"),
        )

    def _with_waiting(self, render: Render) -> Render:
        def with_waiting(snapshot: RunSnapshot) -> dict[str, Any]:
            data = render(snapshot)
            waiting = self._waits.explain_now(snapshot)
            if waiting is not None:
                data["waiting"] = waiting.to_dict()
            return data

        return with_waiting

    async def rerun_run(self, run_id: str, body: Any = None) -> Reply:
        """`POST /runs/{run_id}/rerun`: a new run of the same flow, params and code.

        The body is optional; without one, Connexion passes the raw, empty bytes. The new run
        belongs to the original's tenant; the caller's key is stamped as for a submit.
        """
        changes = body if isinstance(body, dict) else {}
        original, raw = await self._service.rerun_source(run_id, current_tenant())
        workflow = await self._parser.parse(raw) if raw is not None else None
        again = rerun_of(
            original,
            workflow,
            params=changes.get("params"),
            tag=changes.get("tag"),
            timeout_sec=changes.get("timeout_sec"),
        )
        submission = _owned(again, tenant_id=original.tenant_id or self._settings.default_tenant)
        try:
            accepted = await self._submits.submit(submission, _idempotency_key())
        except UnknownRequirement as exc:
            raise UnknownRequirement(
                f"run {run_id!r} is run again with the code it ran with, and {exc.detail}"
            ) from None
        return self._accepted(accepted)

    async def cancel_run(self, run_id: str, body: Any = None) -> Reply:
        """`POST /runs/{run_id}/cancel`.

        The body is optional; without one, Connexion passes the raw, empty bytes.
        """
        reason = body.get("reason") if isinstance(body, dict) else None
        snapshot = await self._service.cancel(
            run_id, requested_by=_requester(), reason=reason, tenant_id=current_tenant()
        )
        return json_reply(render_view(False)(snapshot))

    async def get_run_tasks(self, run_id: str) -> Reply:
        """`GET /runs/{run_id}/tasks`."""
        data = SNAPSHOT.to_dict((await self._service.get(run_id, current_tenant())).snapshot)
        return json_reply({key: data[key] for key in _TASK_FIELDS})


def _owned(submission: Submission, tenant_id: str | None = None) -> Submission:
    """The submission stamped with the caller's key, and its tenant unless `tenant_id` is given.

    With API keys off the submission is left as it is (the service gives it the default
    tenant).
    """
    principal = current_principal()
    if principal is None:
        return submission
    return Submission(
        **{
            **{field: getattr(submission, field) for field in Submission.__dataclass_fields__},
            "tenant_id": tenant_id or principal.tenant_id,
            "api_key_id": principal.key_id,
            "task_modules": principal.task_modules,
        }
    )


def _records(include: list[str] | None) -> bool:
    return bool(_RECORDS & set(include or ()))


def _idempotency_key() -> str | None:
    return current_header(b"idempotency-key")


def _requester() -> str | None:
    """Who is asking, for the record: the API key with auth on, else the client address."""
    principal = current_principal()
    if principal is not None:
        return principal.requested_by
    client = current_scope().get("client")
    return f"address:{client[0]}" if client and client[0] else None
