from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.attempt_record_status import AttemptRecordStatus, check_attempt_record_status
from ..types import UNSET, Unset

T = TypeVar("T", bound="AttemptRecord")


@_attrs_define
class AttemptRecord:
    """One attempt at running a run (one delivery of its job that a worker started)."""

    attempt: int
    worker_id: str
    started_at: float
    status: AttemptRecordStatus
    """ RUNNING while it runs, then how it ended: COMPLETED, FAILED, CANCELLED, or LOST when
    its worker vanished and the job was delivered again.
     """
    ended_at: float | None | Unset = UNSET
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
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt = self.attempt

        worker_id = self.worker_id

        started_at = self.started_at

        status: str = self.status

        ended_at: float | None | Unset
        if isinstance(self.ended_at, Unset):
            ended_at = UNSET
        else:
            ended_at = self.ended_at

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

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempt": attempt,
                "worker_id": worker_id,
                "started_at": started_at,
                "status": status,
            }
        )
        if ended_at is not UNSET:
            field_dict["ended_at"] = ended_at
        if error is not UNSET:
            field_dict["error"] = error
        if error_reason is not UNSET:
            field_dict["error_reason"] = error_reason

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempt = d.pop("attempt")

        worker_id = d.pop("worker_id")

        started_at = d.pop("started_at")

        status = check_attempt_record_status(d.pop("status"))

        def _parse_ended_at(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        ended_at = _parse_ended_at(d.pop("ended_at", UNSET))

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

        attempt_record = cls(
            attempt=attempt,
            worker_id=worker_id,
            started_at=started_at,
            status=status,
            ended_at=ended_at,
            error=error,
            error_reason=error_reason,
        )

        attempt_record.additional_properties = d
        return attempt_record

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
