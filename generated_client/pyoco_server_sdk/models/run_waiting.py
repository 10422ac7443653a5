from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_waiting_reason import RunWaitingReason, check_run_waiting_reason
from ..types import UNSET, Unset

T = TypeVar("T", bound="RunWaiting")


@_attrs_define
class RunWaiting:
    """Why a PENDING run has not started, worked out by the gateway when it answers (never
    stored): `no_worker` (no live worker serves its tag), `workers_busy` (the workers serving
    it are all busy; `ahead` jobs are queued before it), `retry_scheduled` (a failed attempt
    is retried at `retry_at`), or `queued` (a worker should take it at once).

    """

    reason: RunWaitingReason
    detail: str
    """ The same, for a person. """
    ahead: int | None | Unset = UNSET
    """ Jobs queued on the tag before this one, when known. """
    workers: int | None | Unset = UNSET
    """ Live workers serving the tag. """
    retry_at: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reason: str = self.reason

        detail = self.detail

        ahead: int | None | Unset
        if isinstance(self.ahead, Unset):
            ahead = UNSET
        else:
            ahead = self.ahead

        workers: int | None | Unset
        if isinstance(self.workers, Unset):
            workers = UNSET
        else:
            workers = self.workers

        retry_at: float | None | Unset
        if isinstance(self.retry_at, Unset):
            retry_at = UNSET
        else:
            retry_at = self.retry_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "reason": reason,
                "detail": detail,
            }
        )
        if ahead is not UNSET:
            field_dict["ahead"] = ahead
        if workers is not UNSET:
            field_dict["workers"] = workers
        if retry_at is not UNSET:
            field_dict["retry_at"] = retry_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        reason = check_run_waiting_reason(d.pop("reason"))

        detail = d.pop("detail")

        def _parse_ahead(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        ahead = _parse_ahead(d.pop("ahead", UNSET))

        def _parse_workers(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        workers = _parse_workers(d.pop("workers", UNSET))

        def _parse_retry_at(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        retry_at = _parse_retry_at(d.pop("retry_at", UNSET))

        run_waiting = cls(
            reason=reason,
            detail=detail,
            ahead=ahead,
            workers=workers,
            retry_at=retry_at,
        )

        run_waiting.additional_properties = d
        return run_waiting

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
