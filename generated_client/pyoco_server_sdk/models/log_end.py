from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_status import RunStatus, check_run_status

T = TypeVar("T", bound="LogEnd")


@_attrs_define
class LogEnd:
    """Data of the `end` event of a log stream.

    Example:
        {'run_id': '0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70', 'status': 'COMPLETED'}

    """

    run_id: str
    """ A run id (a UUID4 string for runs created by this server). """
    status: RunStatus
    """ Status of a run. COMPLETED, FAILED and CANCELLED are terminal; CANCELLING means a cancel
    was requested and the worker is stopping the run.
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        status: str = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "run_id": run_id,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        run_id = d.pop("run_id")

        status = check_run_status(d.pop("status"))

        log_end = cls(
            run_id=run_id,
            status=status,
        )

        log_end.additional_properties = d
        return log_end

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
