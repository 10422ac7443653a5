from typing import Literal

RunListHeartbeatEventEvent = Literal["heartbeat"]

RUN_LIST_HEARTBEAT_EVENT_EVENT_VALUES: set[RunListHeartbeatEventEvent] = {
    "heartbeat",
}


def check_run_list_heartbeat_event_event(value: str) -> RunListHeartbeatEventEvent:
    if value in RUN_LIST_HEARTBEAT_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RUN_LIST_HEARTBEAT_EVENT_EVENT_VALUES!r}")
