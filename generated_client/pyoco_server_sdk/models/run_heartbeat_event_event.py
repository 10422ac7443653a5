from typing import Literal

RunHeartbeatEventEvent = Literal["heartbeat"]

RUN_HEARTBEAT_EVENT_EVENT_VALUES: set[RunHeartbeatEventEvent] = {
    "heartbeat",
}


def check_run_heartbeat_event_event(value: str) -> RunHeartbeatEventEvent:
    if value in RUN_HEARTBEAT_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RUN_HEARTBEAT_EVENT_EVENT_VALUES!r}")
