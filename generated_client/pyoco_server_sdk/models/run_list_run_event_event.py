from typing import Literal

RunListRunEventEvent = Literal["run"]

RUN_LIST_RUN_EVENT_EVENT_VALUES: set[RunListRunEventEvent] = {
    "run",
}


def check_run_list_run_event_event(value: str) -> RunListRunEventEvent:
    if value in RUN_LIST_RUN_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RUN_LIST_RUN_EVENT_EVENT_VALUES!r}")
