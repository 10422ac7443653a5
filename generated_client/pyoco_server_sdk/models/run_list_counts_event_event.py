from typing import Literal

RunListCountsEventEvent = Literal["counts"]

RUN_LIST_COUNTS_EVENT_EVENT_VALUES: set[RunListCountsEventEvent] = {
    "counts",
}


def check_run_list_counts_event_event(value: str) -> RunListCountsEventEvent:
    if value in RUN_LIST_COUNTS_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RUN_LIST_COUNTS_EVENT_EVENT_VALUES!r}")
