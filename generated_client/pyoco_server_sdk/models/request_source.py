from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RequestSource")


@_attrs_define
class RequestSource:
    """Where the request came from, as the gateway saw it."""

    remote_addr: None | str | Unset = UNSET
    x_forwarded_for: None | str | Unset = UNSET
    x_real_ip: None | str | Unset = UNSET
    user_agent: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        remote_addr: None | str | Unset
        if isinstance(self.remote_addr, Unset):
            remote_addr = UNSET
        else:
            remote_addr = self.remote_addr

        x_forwarded_for: None | str | Unset
        if isinstance(self.x_forwarded_for, Unset):
            x_forwarded_for = UNSET
        else:
            x_forwarded_for = self.x_forwarded_for

        x_real_ip: None | str | Unset
        if isinstance(self.x_real_ip, Unset):
            x_real_ip = UNSET
        else:
            x_real_ip = self.x_real_ip

        user_agent: None | str | Unset
        if isinstance(self.user_agent, Unset):
            user_agent = UNSET
        else:
            user_agent = self.user_agent

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if remote_addr is not UNSET:
            field_dict["remote_addr"] = remote_addr
        if x_forwarded_for is not UNSET:
            field_dict["x_forwarded_for"] = x_forwarded_for
        if x_real_ip is not UNSET:
            field_dict["x_real_ip"] = x_real_ip
        if user_agent is not UNSET:
            field_dict["user_agent"] = user_agent

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_remote_addr(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        remote_addr = _parse_remote_addr(d.pop("remote_addr", UNSET))

        def _parse_x_forwarded_for(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        x_forwarded_for = _parse_x_forwarded_for(d.pop("x_forwarded_for", UNSET))

        def _parse_x_real_ip(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        x_real_ip = _parse_x_real_ip(d.pop("x_real_ip", UNSET))

        def _parse_user_agent(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        user_agent = _parse_user_agent(d.pop("user_agent", UNSET))

        request_source = cls(
            remote_addr=remote_addr,
            x_forwarded_for=x_forwarded_for,
            x_real_ip=x_real_ip,
            user_agent=user_agent,
        )

        request_source.additional_properties = d
        return request_source

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
