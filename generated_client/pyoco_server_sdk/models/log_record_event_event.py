from typing import Literal

LogRecordEventEvent = Literal["log"]

LOG_RECORD_EVENT_EVENT_VALUES: set[LogRecordEventEvent] = {
    "log",
}


def check_log_record_event_event(value: str) -> LogRecordEventEvent:
    if value in LOG_RECORD_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LOG_RECORD_EVENT_EVENT_VALUES!r}")
