from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SseEvent")


@_attrs_define
class SseEvent:
    """The wire format shared by every event stream of this API (`text/event-stream`, UTF-8,
    per the WHATWG server-sent events spec). Each event is a few `field: value` lines and
    ends with an empty line:

    ```
    id: 42
    event: snapshot
    data: {"run_id": "0b6f…", "snapshot": {…}, "ts": 1767225600.5}

    ```

    `event` names the kind (a stream's event schema lists them: RunEvent, RunListEvent,
    LogEvent), `data` is one line of JSON text whose schema depends on the kind (the
    variant's `x-data-schema` names it: RunSnapshot inside a WatchSnapshot, WatchHeartbeat,
    RunSummary, RunCounts, LogRecord, LogEnd, ...), and `id`, on the events that can be
    resumed from, is the value to send back as `Last-Event-ID` when reconnecting. An
    EventSource parser carries the last `id` over to later events that have none. The
    stream schemas describe an event as such a parser hands it over (`data` still text), so
    that response validators can check it; decode `data` with JSON and read it with the
    named schema. Kinds may be added: skip an event whose `event` you do not know.

    """

    event: str
    data: str
    id: str | Unset = UNSET
    retry: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event = self.event

        data = self.data

        id = self.id

        retry = self.retry

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "event": event,
                "data": data,
            }
        )
        if id is not UNSET:
            field_dict["id"] = id
        if retry is not UNSET:
            field_dict["retry"] = retry

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event = d.pop("event")

        data = d.pop("data")

        id = d.pop("id", UNSET)

        retry = d.pop("retry", UNSET)

        sse_event = cls(
            event=event,
            data=data,
            id=id,
            retry=retry,
        )

        sse_event.additional_properties = d
        return sse_event

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
