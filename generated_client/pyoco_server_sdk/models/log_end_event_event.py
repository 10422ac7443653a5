from typing import Literal

LogEndEventEvent = Literal["end"]

LOG_END_EVENT_EVENT_VALUES: set[LogEndEventEvent] = {
    "end",
}


def check_log_end_event_event(value: str) -> LogEndEventEvent:
    if value in LOG_END_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LOG_END_EVENT_EVENT_VALUES!r}")
