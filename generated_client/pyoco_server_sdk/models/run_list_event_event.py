from typing import Literal

RunListEventEvent = Literal["counts", "heartbeat", "reset", "run"]

RUN_LIST_EVENT_EVENT_VALUES: set[RunListEventEvent] = {
    "counts",
    "heartbeat",
    "reset",
    "run",
}


def check_run_list_event_event(value: str) -> RunListEventEvent:
    if value in RUN_LIST_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RUN_LIST_EVENT_EVENT_VALUES!r}")
