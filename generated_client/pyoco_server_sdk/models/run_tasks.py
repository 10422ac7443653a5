from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_status import RunStatus, check_run_status

if TYPE_CHECKING:
    from ..models.run_tasks_task_records import RunTasksTaskRecords
    from ..models.run_tasks_tasks import RunTasksTasks


T = TypeVar("T", bound="RunTasks")


@_attrs_define
class RunTasks:
    run_id: str
    """ A run id (a UUID4 string for runs created by this server). """
    flow_name: str
    status: RunStatus
    """ Status of a run. COMPLETED, FAILED and CANCELLED are terminal; CANCELLING means a cancel
    was requested and the worker is stopping the run.
     """
    tasks: RunTasksTasks
    task_records: RunTasksTaskRecords
    task_records_truncated: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        flow_name = self.flow_name

        status: str = self.status

        tasks = self.tasks.to_dict()

        task_records = self.task_records.to_dict()

        task_records_truncated = self.task_records_truncated

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "run_id": run_id,
                "flow_name": flow_name,
                "status": status,
                "tasks": tasks,
                "task_records": task_records,
                "task_records_truncated": task_records_truncated,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_tasks_task_records import RunTasksTaskRecords  # noqa: PLC0415
        from ..models.run_tasks_tasks import RunTasksTasks  # noqa: PLC0415

        d = dict(src_dict)
        run_id = d.pop("run_id")

        flow_name = d.pop("flow_name")

        status = check_run_status(d.pop("status"))

        tasks = RunTasksTasks.from_dict(d.pop("tasks"))

        task_records = RunTasksTaskRecords.from_dict(d.pop("task_records"))

        task_records_truncated = d.pop("task_records_truncated")

        run_tasks = cls(
            run_id=run_id,
            flow_name=flow_name,
            status=status,
            tasks=tasks,
            task_records=task_records,
            task_records_truncated=task_records_truncated,
        )

        run_tasks.additional_properties = d
        return run_tasks

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
