from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.log_record import LogRecord


T = TypeVar("T", bound="RunLogs")


@_attrs_define
class RunLogs:
    run_id: str
    """ A run id (a UUID4 string for runs created by this server). """
    items: list[LogRecord]
    next_after: int | None
    """ Pass it as `after` for the next page; null when there are no more now. """
    truncated: bool
    """ True when the run wrote more than its log limit and the rest was dropped. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        next_after: int | None
        next_after = self.next_after

        truncated = self.truncated

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "run_id": run_id,
                "items": items,
                "next_after": next_after,
                "truncated": truncated,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.log_record import LogRecord  # noqa: PLC0415

        d = dict(src_dict)
        run_id = d.pop("run_id")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = LogRecord.from_dict(items_item_data)

            items.append(items_item)

        def _parse_next_after(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        next_after = _parse_next_after(d.pop("next_after"))

        truncated = d.pop("truncated")

        run_logs = cls(
            run_id=run_id,
            items=items,
            next_after=next_after,
            truncated=truncated,
        )

        run_logs.additional_properties = d
        return run_logs

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
