from typing import Literal

LogEventEvent = Literal["end", "heartbeat", "log"]

LOG_EVENT_EVENT_VALUES: set[LogEventEvent] = {
    "end",
    "heartbeat",
    "log",
}


def check_log_event_event(value: str) -> LogEventEvent:
    if value in LOG_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LOG_EVENT_EVENT_VALUES!r}")
