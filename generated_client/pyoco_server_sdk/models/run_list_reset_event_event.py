from typing import Literal

RunListResetEventEvent = Literal["reset"]

RUN_LIST_RESET_EVENT_EVENT_VALUES: set[RunListResetEventEvent] = {
    "reset",
}


def check_run_list_reset_event_event(value: str) -> RunListResetEventEvent:
    if value in RUN_LIST_RESET_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RUN_LIST_RESET_EVENT_EVENT_VALUES!r}")
