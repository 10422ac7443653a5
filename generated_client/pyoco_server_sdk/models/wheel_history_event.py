from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.wheel_history_event_action import WheelHistoryEventAction, check_wheel_history_event_action
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.request_source import RequestSource
    from ..models.wheel_actor import WheelActor


T = TypeVar("T", bound="WheelHistoryEvent")


@_attrs_define
class WheelHistoryEvent:
    """One upload or deletion in the wheel registry."""

    event_id: str
    occurred_at: float
    action: WheelHistoryEventAction
    wheel_name: str
    """ A wheel file name (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). """
    tags: list[str]
    distribution: None | str | Unset = UNSET
    version: None | str | Unset = UNSET
    size_bytes: int | None | Unset = UNSET
    sha256_hex: None | str | Unset = UNSET
    replace: bool | None | Unset = UNSET
    actor: WheelActor | Unset = UNSET
    """ Who made the change (with API keys on). """
    source: RequestSource | Unset = UNSET
    """ Where the request came from, as the gateway saw it. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event_id = self.event_id

        occurred_at = self.occurred_at

        action: str = self.action

        wheel_name = self.wheel_name

        tags = self.tags

        distribution: None | str | Unset
        if isinstance(self.distribution, Unset):
            distribution = UNSET
        else:
            distribution = self.distribution

        version: None | str | Unset
        if isinstance(self.version, Unset):
            version = UNSET
        else:
            version = self.version

        size_bytes: int | None | Unset
        if isinstance(self.size_bytes, Unset):
            size_bytes = UNSET
        else:
            size_bytes = self.size_bytes

        sha256_hex: None | str | Unset
        if isinstance(self.sha256_hex, Unset):
            sha256_hex = UNSET
        else:
            sha256_hex = self.sha256_hex

        replace: bool | None | Unset
        if isinstance(self.replace, Unset):
            replace = UNSET
        else:
            replace = self.replace

        actor: dict[str, Any] | Unset = UNSET
        if not isinstance(self.actor, Unset):
            actor = self.actor.to_dict()

        source: dict[str, Any] | Unset = UNSET
        if not isinstance(self.source, Unset):
            source = self.source.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "event_id": event_id,
                "occurred_at": occurred_at,
                "action": action,
                "wheel_name": wheel_name,
                "tags": tags,
            }
        )
        if distribution is not UNSET:
            field_dict["distribution"] = distribution
        if version is not UNSET:
            field_dict["version"] = version
        if size_bytes is not UNSET:
            field_dict["size_bytes"] = size_bytes
        if sha256_hex is not UNSET:
            field_dict["sha256_hex"] = sha256_hex
        if replace is not UNSET:
            field_dict["replace"] = replace
        if actor is not UNSET:
            field_dict["actor"] = actor
        if source is not UNSET:
            field_dict["source"] = source

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.request_source import RequestSource  # noqa: PLC0415
        from ..models.wheel_actor import WheelActor  # noqa: PLC0415

        d = dict(src_dict)
        event_id = d.pop("event_id")

        occurred_at = d.pop("occurred_at")

        action = check_wheel_history_event_action(d.pop("action"))

        wheel_name = d.pop("wheel_name")

        tags = cast(list[str], d.pop("tags"))

        def _parse_distribution(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        distribution = _parse_distribution(d.pop("distribution", UNSET))

        def _parse_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        version = _parse_version(d.pop("version", UNSET))

        def _parse_size_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        size_bytes = _parse_size_bytes(d.pop("size_bytes", UNSET))

        def _parse_sha256_hex(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        sha256_hex = _parse_sha256_hex(d.pop("sha256_hex", UNSET))

        def _parse_replace(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        replace = _parse_replace(d.pop("replace", UNSET))

        _actor = d.pop("actor", UNSET)
        actor: WheelActor | Unset
        if isinstance(_actor, Unset):
            actor = UNSET
        else:
            actor = WheelActor.from_dict(_actor)

        _source = d.pop("source", UNSET)
        source: RequestSource | Unset
        if isinstance(_source, Unset):
            source = UNSET
        else:
            source = RequestSource.from_dict(_source)

        wheel_history_event = cls(
            event_id=event_id,
            occurred_at=occurred_at,
            action=action,
            wheel_name=wheel_name,
            tags=tags,
            distribution=distribution,
            version=version,
            size_bytes=size_bytes,
            sha256_hex=sha256_hex,
            replace=replace,
            actor=actor,
            source=source,
        )

        wheel_history_event.additional_properties = d
        return wheel_history_event

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
