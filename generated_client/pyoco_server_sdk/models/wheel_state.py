from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.code_version import CodeVersion
    from ..models.skipped_wheel import SkippedWheel


T = TypeVar("T", bound="WheelState")


@_attrs_define
class WheelState:
    """A worker's wheel sync, as it reports it."""

    enabled: bool
    installed: list[CodeVersion] | Unset = UNSET
    skipped: list[SkippedWheel] | Unset = UNSET
    last_error: None | str | Unset = UNSET
    last_synced_at: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        enabled = self.enabled

        installed: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.installed, Unset):
            installed = []
            for installed_item_data in self.installed:
                installed_item = installed_item_data.to_dict()
                installed.append(installed_item)

        skipped: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.skipped, Unset):
            skipped = []
            for skipped_item_data in self.skipped:
                skipped_item = skipped_item_data.to_dict()
                skipped.append(skipped_item)

        last_error: None | str | Unset
        if isinstance(self.last_error, Unset):
            last_error = UNSET
        else:
            last_error = self.last_error

        last_synced_at: float | None | Unset
        if isinstance(self.last_synced_at, Unset):
            last_synced_at = UNSET
        else:
            last_synced_at = self.last_synced_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "enabled": enabled,
            }
        )
        if installed is not UNSET:
            field_dict["installed"] = installed
        if skipped is not UNSET:
            field_dict["skipped"] = skipped
        if last_error is not UNSET:
            field_dict["last_error"] = last_error
        if last_synced_at is not UNSET:
            field_dict["last_synced_at"] = last_synced_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.code_version import CodeVersion  # noqa: PLC0415
        from ..models.skipped_wheel import SkippedWheel  # noqa: PLC0415

        d = dict(src_dict)
        enabled = d.pop("enabled")

        _installed = d.pop("installed", UNSET)
        installed: list[CodeVersion] | Unset = UNSET
        if _installed is not UNSET:
            installed = []
            for installed_item_data in _installed:
                installed_item = CodeVersion.from_dict(installed_item_data)

                installed.append(installed_item)

        _skipped = d.pop("skipped", UNSET)
        skipped: list[SkippedWheel] | Unset = UNSET
        if _skipped is not UNSET:
            skipped = []
            for skipped_item_data in _skipped:
                skipped_item = SkippedWheel.from_dict(skipped_item_data)

                skipped.append(skipped_item)

        def _parse_last_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_error = _parse_last_error(d.pop("last_error", UNSET))

        def _parse_last_synced_at(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        last_synced_at = _parse_last_synced_at(d.pop("last_synced_at", UNSET))

        wheel_state = cls(
            enabled=enabled,
            installed=installed,
            skipped=skipped,
            last_error=last_error,
            last_synced_at=last_synced_at,
        )

        wheel_state.additional_properties = d
        return wheel_state

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
