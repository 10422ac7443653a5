from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="WorkerPatch")


@_attrs_define
class WorkerPatch:
    hidden: bool

    def to_dict(self) -> dict[str, Any]:
        hidden = self.hidden

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "hidden": hidden,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        hidden = d.pop("hidden")

        worker_patch = cls(
            hidden=hidden,
        )

        return worker_patch
