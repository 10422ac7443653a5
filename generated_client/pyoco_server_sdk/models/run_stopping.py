from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_stopping_reason import RunStoppingReason, check_run_stopping_reason
from ..types import UNSET, Unset

T = TypeVar("T", bound="RunStopping")


@_attrs_define
class RunStopping:
    """Why and by when a run is being stopped (set when it becomes CANCELLING, kept after):
    `cancel` (someone asked) or `timeout` (it went over `timeout_sec`); the worker kills its
    process at `deadline_at` if it has not stopped by then.

    """

    reason: RunStoppingReason
    since: float
    deadline_at: float | None | Unset = UNSET
    """ Set by the worker once it is stopping the run. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reason: str = self.reason

        since = self.since

        deadline_at: float | None | Unset
        if isinstance(self.deadline_at, Unset):
            deadline_at = UNSET
        else:
            deadline_at = self.deadline_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "reason": reason,
                "since": since,
            }
        )
        if deadline_at is not UNSET:
            field_dict["deadline_at"] = deadline_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        reason = check_run_stopping_reason(d.pop("reason"))

        since = d.pop("since")

        def _parse_deadline_at(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        deadline_at = _parse_deadline_at(d.pop("deadline_at", UNSET))

        run_stopping = cls(
            reason=reason,
            since=since,
            deadline_at=deadline_at,
        )

        run_stopping.additional_properties = d
        return run_stopping

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
