from typing import Literal

LogHeartbeatEventEvent = Literal["heartbeat"]

LOG_HEARTBEAT_EVENT_EVENT_VALUES: set[LogHeartbeatEventEvent] = {
    "heartbeat",
}


def check_log_heartbeat_event_event(value: str) -> LogHeartbeatEventEvent:
    if value in LOG_HEARTBEAT_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LOG_HEARTBEAT_EVENT_EVENT_VALUES!r}")
