from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SkippedWheel")


@_attrs_define
class SkippedWheel:
    wheel: str
    """ A wheel file name (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). """
    reason: str
    """ Why this worker cannot install it, for a person. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        wheel = self.wheel

        reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "wheel": wheel,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        wheel = d.pop("wheel")

        reason = d.pop("reason")

        skipped_wheel = cls(
            wheel=wheel,
            reason=reason,
        )

        skipped_wheel.additional_properties = d
        return skipped_wheel

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
