from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.task_state import TaskState, check_task_state

T = TypeVar("T", bound="RunSnapshotTasks")


@_attrs_define
class RunSnapshotTasks:
    """State of each task, by task name."""

    additional_properties: dict[str, TaskState] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            field_dict[prop_name] = prop

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        run_snapshot_tasks = cls()

        additional_properties = {}
        for prop_name, prop_dict in d.items():
            additional_property = check_task_state(prop_dict)

            additional_properties[prop_name] = additional_property

        run_snapshot_tasks.additional_properties = additional_properties
        return run_snapshot_tasks

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> TaskState:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: TaskState) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
