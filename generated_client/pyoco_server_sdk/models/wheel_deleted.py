from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="WheelDeleted")


@_attrs_define
class WheelDeleted:
    name: str
    """ A wheel file name (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). """
    deleted: bool
    distribution: str | Unset = UNSET
    version: str | Unset = UNSET
    current_version: None | str | Unset = UNSET
    """ The version new runs are bound to now (null when none is left). """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        deleted = self.deleted

        distribution = self.distribution

        version = self.version

        current_version: None | str | Unset
        if isinstance(self.current_version, Unset):
            current_version = UNSET
        else:
            current_version = self.current_version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "deleted": deleted,
            }
        )
        if distribution is not UNSET:
            field_dict["distribution"] = distribution
        if version is not UNSET:
            field_dict["version"] = version
        if current_version is not UNSET:
            field_dict["current_version"] = current_version

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        deleted = d.pop("deleted")

        distribution = d.pop("distribution", UNSET)

        version = d.pop("version", UNSET)

        def _parse_current_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        current_version = _parse_current_version(d.pop("current_version", UNSET))

        wheel_deleted = cls(
            name=name,
            deleted=deleted,
            distribution=distribution,
            version=version,
            current_version=current_version,
        )

        wheel_deleted.additional_properties = d
        return wheel_deleted

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
