from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Params")


@_attrs_define
class Params:
    """Parameters of the run, passed to the flow's tasks by name. Plain JSON: no NaN or
    Infinity, text that is valid Unicode (no lone surrogate escape such as `\\ud800`), and
    arrays and objects nested at most 64 levels deep, the params object being the first;
    anything else is a 400 `invalid_input` (`invalid_request` when a JSON body cannot be
    read at all). Their JSON text counts against `PYOCO_MAX_RUN_SNAPSHOT_BYTES` (413
    beyond).

        Example:
            {'x': 1}

    """

    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        params = cls()

        params.additional_properties = d
        return params

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
