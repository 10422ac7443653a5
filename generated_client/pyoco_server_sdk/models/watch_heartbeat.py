from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="WatchHeartbeat")


@_attrs_define
class WatchHeartbeat:
    """Data of a `heartbeat` event of a run's streams (GET /runs/{run_id}/watch and
    GET /runs/{run_id}/logs?follow=true): the stream is alive.

        Example:
            {'run_id': '0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70', 'ts': 1767225600.5}

    """

    run_id: str
    """ A run id (a UUID4 string for runs created by this server). """
    ts: float
    """ When the gateway sent it (Unix seconds). """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        ts = self.ts

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "run_id": run_id,
                "ts": ts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        run_id = d.pop("run_id")

        ts = d.pop("ts")

        watch_heartbeat = cls(
            run_id=run_id,
            ts=ts,
        )

        watch_heartbeat.additional_properties = d
        return watch_heartbeat

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
