from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.task_state import TaskState, check_task_state
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.task_record_inputs import TaskRecordInputs


T = TypeVar("T", bound="TaskRecord")


@_attrs_define
class TaskRecord:
    """What happened to one task of a run."""

    state: TaskState
    """ State of one task of a run. """
    started_at: float | None | Unset = UNSET
    ended_at: float | None | Unset = UNSET
    duration_ms: float | None | Unset = UNSET
    error: None | str | Unset = UNSET
    """ The task's exception message, when it failed. """
    traceback: None | str | Unset = UNSET
    inputs: TaskRecordInputs | Unset = UNSET
    """ The arguments the task was called with (converted like outputs). """
    output: Any | Unset = UNSET
    """ The task's return value as JSON (null until the task succeeded). """
    output_converted: bool | Unset = UNSET
    """ True when the return value was not JSON and `output` is a deterministic conversion
    of it (sets become sorted lists, bytes base64 text, other objects their repr).
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        state: str = self.state

        started_at: float | None | Unset
        if isinstance(self.started_at, Unset):
            started_at = UNSET
        else:
            started_at = self.started_at

        ended_at: float | None | Unset
        if isinstance(self.ended_at, Unset):
            ended_at = UNSET
        else:
            ended_at = self.ended_at

        duration_ms: float | None | Unset
        if isinstance(self.duration_ms, Unset):
            duration_ms = UNSET
        else:
            duration_ms = self.duration_ms

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        traceback: None | str | Unset
        if isinstance(self.traceback, Unset):
            traceback = UNSET
        else:
            traceback = self.traceback

        inputs: dict[str, Any] | Unset = UNSET
        if not isinstance(self.inputs, Unset):
            inputs = self.inputs.to_dict()

        output = self.output

        output_converted = self.output_converted

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "state": state,
            }
        )
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if ended_at is not UNSET:
            field_dict["ended_at"] = ended_at
        if duration_ms is not UNSET:
            field_dict["duration_ms"] = duration_ms
        if error is not UNSET:
            field_dict["error"] = error
        if traceback is not UNSET:
            field_dict["traceback"] = traceback
        if inputs is not UNSET:
            field_dict["inputs"] = inputs
        if output is not UNSET:
            field_dict["output"] = output
        if output_converted is not UNSET:
            field_dict["output_converted"] = output_converted

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.task_record_inputs import TaskRecordInputs  # noqa: PLC0415

        d = dict(src_dict)
        state = check_task_state(d.pop("state"))

        def _parse_started_at(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        started_at = _parse_started_at(d.pop("started_at", UNSET))

        def _parse_ended_at(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        ended_at = _parse_ended_at(d.pop("ended_at", UNSET))

        def _parse_duration_ms(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        duration_ms = _parse_duration_ms(d.pop("duration_ms", UNSET))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_traceback(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        traceback = _parse_traceback(d.pop("traceback", UNSET))

        _inputs = d.pop("inputs", UNSET)
        inputs: TaskRecordInputs | Unset
        if isinstance(_inputs, Unset):
            inputs = UNSET
        else:
            inputs = TaskRecordInputs.from_dict(_inputs)

        output = d.pop("output", UNSET)

        output_converted = d.pop("output_converted", UNSET)

        task_record = cls(
            state=state,
            started_at=started_at,
            ended_at=ended_at,
            duration_ms=duration_ms,
            error=error,
            traceback=traceback,
            inputs=inputs,
            output=output,
            output_converted=output_converted,
        )

        task_record.additional_properties = d
        return task_record

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
