from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="CodeVersion")


@_attrs_define
class CodeVersion:
    """A wheel a run is bound to (and, once it ran, ran with)."""

    distribution: str
    version: str
    sha256: str
    wheel: str
    """ A wheel file name (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        distribution = self.distribution

        version = self.version

        sha256 = self.sha256

        wheel = self.wheel

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "distribution": distribution,
                "version": version,
                "sha256": sha256,
                "wheel": wheel,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        distribution = d.pop("distribution")

        version = d.pop("version")

        sha256 = d.pop("sha256")

        wheel = d.pop("wheel")

        code_version = cls(
            distribution=distribution,
            version=version,
            sha256=sha256,
            wheel=wheel,
        )

        code_version.additional_properties = d
        return code_version

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
