from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_status import RunStatus, check_run_status
from ..types import UNSET, Unset

T = TypeVar("T", bound="RunSummary")


@_attrs_define
class RunSummary:
    """A run as listed by GET /runs (its snapshot without params and task details)."""

    run_id: str
    """ A run id (a UUID4 string for runs created by this server). """
    flow_name: str
    tag: str
    """ A routing tag; one subject token of letters, digits, `_` and `-`. """
    tags: list[str]
    status: RunStatus
    """ Status of a run. COMPLETED, FAILED and CANCELLED are terminal; CANCELLING means a cancel
    was requested and the worker is stopping the run.
     """
    submitted_at: float
    updated_at: float
    start_time: float | None | Unset = UNSET
    end_time: float | None | Unset = UNSET
    worker_id: None | str | Unset = UNSET
    attempt: int | Unset = UNSET
    error: None | str | Unset = UNSET
    error_reason: None | str | Unset = UNSET
    """ Why a run (or one attempt at it) failed or was cancelled, as a code (`error_reason`);
    null while it has not. (Nullable here rather than at each use: Connexion's validator
    does not apply a `nullable` beside an `allOf`.)
    Extensible like ProblemReason (and for the same reasons): a plain string whose known
    values are listed in `x-extensible-enum`; treat an unknown one as a failure for
    `error` to explain.

    | code | meaning |
    |---|---|
    | `flow_not_found` | no flow of that name on the worker |
    | `invalid_workflow` | the stored flow.yaml could not be built on the worker |
    | `callable_not_allowed` | a task's callable is not allowed on the worker; nothing was imported |
    | `code_unavailable` | a wheel the run is bound to could not be installed |
    | `execution_error` | a task raised |
    | `crashed` | the run's process died |
    | `timeout` | the run went over `timeout_sec` |
    | `max_deliveries_exceeded` | its job's deliveries ran out (its workers kept dying) |
    | `lost` | its job left the work stream while the run had not ended (expired, purged, or a redrive interrupted
    before it was queued); the server ended it |
    | `cancelled` | someone cancelled it |
     """
    tenant_id: None | str | Unset = UNSET
    workflow_yaml_sha256: None | str | Unset = UNSET
    rerun_of: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        flow_name = self.flow_name

        tag = self.tag

        tags = self.tags

        status: str = self.status

        submitted_at = self.submitted_at

        updated_at = self.updated_at

        start_time: float | None | Unset
        if isinstance(self.start_time, Unset):
            start_time = UNSET
        else:
            start_time = self.start_time

        end_time: float | None | Unset
        if isinstance(self.end_time, Unset):
            end_time = UNSET
        else:
            end_time = self.end_time

        worker_id: None | str | Unset
        if isinstance(self.worker_id, Unset):
            worker_id = UNSET
        else:
            worker_id = self.worker_id

        attempt = self.attempt

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        error_reason: None | str | Unset
        if isinstance(self.error_reason, Unset):
            error_reason = UNSET
        else:
            error_reason = self.error_reason

        tenant_id: None | str | Unset
        if isinstance(self.tenant_id, Unset):
            tenant_id = UNSET
        else:
            tenant_id = self.tenant_id

        workflow_yaml_sha256: None | str | Unset
        if isinstance(self.workflow_yaml_sha256, Unset):
            workflow_yaml_sha256 = UNSET
        else:
            workflow_yaml_sha256 = self.workflow_yaml_sha256

        rerun_of: None | str | Unset
        if isinstance(self.rerun_of, Unset):
            rerun_of = UNSET
        else:
            rerun_of = self.rerun_of

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "run_id": run_id,
                "flow_name": flow_name,
                "tag": tag,
                "tags": tags,
                "status": status,
                "submitted_at": submitted_at,
                "updated_at": updated_at,
            }
        )
        if start_time is not UNSET:
            field_dict["start_time"] = start_time
        if end_time is not UNSET:
            field_dict["end_time"] = end_time
        if worker_id is not UNSET:
            field_dict["worker_id"] = worker_id
        if attempt is not UNSET:
            field_dict["attempt"] = attempt
        if error is not UNSET:
            field_dict["error"] = error
        if error_reason is not UNSET:
            field_dict["error_reason"] = error_reason
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id
        if workflow_yaml_sha256 is not UNSET:
            field_dict["workflow_yaml_sha256"] = workflow_yaml_sha256
        if rerun_of is not UNSET:
            field_dict["rerun_of"] = rerun_of

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        run_id = d.pop("run_id")

        flow_name = d.pop("flow_name")

        tag = d.pop("tag")

        tags = cast(list[str], d.pop("tags"))

        status = check_run_status(d.pop("status"))

        submitted_at = d.pop("submitted_at")

        updated_at = d.pop("updated_at")

        def _parse_start_time(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        start_time = _parse_start_time(d.pop("start_time", UNSET))

        def _parse_end_time(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        end_time = _parse_end_time(d.pop("end_time", UNSET))

        def _parse_worker_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        worker_id = _parse_worker_id(d.pop("worker_id", UNSET))

        attempt = d.pop("attempt", UNSET)

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_error_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error_reason = _parse_error_reason(d.pop("error_reason", UNSET))

        def _parse_tenant_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tenant_id = _parse_tenant_id(d.pop("tenant_id", UNSET))

        def _parse_workflow_yaml_sha256(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        workflow_yaml_sha256 = _parse_workflow_yaml_sha256(d.pop("workflow_yaml_sha256", UNSET))

        def _parse_rerun_of(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        rerun_of = _parse_rerun_of(d.pop("rerun_of", UNSET))

        run_summary = cls(
            run_id=run_id,
            flow_name=flow_name,
            tag=tag,
            tags=tags,
            status=status,
            submitted_at=submitted_at,
            updated_at=updated_at,
            start_time=start_time,
            end_time=end_time,
            worker_id=worker_id,
            attempt=attempt,
            error=error,
            error_reason=error_reason,
            tenant_id=tenant_id,
            workflow_yaml_sha256=workflow_yaml_sha256,
            rerun_of=rerun_of,
        )

        run_summary.additional_properties = d
        return run_summary

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
