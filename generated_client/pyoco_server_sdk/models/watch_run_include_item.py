from typing import Literal

WatchRunIncludeItem = Literal["all", "full", "records", "task_records"]

WATCH_RUN_INCLUDE_ITEM_VALUES: set[WatchRunIncludeItem] = {
    "all",
    "full",
    "records",
    "task_records",
}


def check_watch_run_include_item(value: str) -> WatchRunIncludeItem:
    if value in WATCH_RUN_INCLUDE_ITEM_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {WATCH_RUN_INCLUDE_ITEM_VALUES!r}")
