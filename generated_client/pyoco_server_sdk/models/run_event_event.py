from typing import Literal

RunEventEvent = Literal["heartbeat", "snapshot"]

RUN_EVENT_EVENT_VALUES: set[RunEventEvent] = {
    "heartbeat",
    "snapshot",
}


def check_run_event_event(value: str) -> RunEventEvent:
    if value in RUN_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RUN_EVENT_EVENT_VALUES!r}")
