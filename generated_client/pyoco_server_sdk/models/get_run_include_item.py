from typing import Literal

GetRunIncludeItem = Literal["all", "full", "records", "task_records"]

GET_RUN_INCLUDE_ITEM_VALUES: set[GetRunIncludeItem] = {
    "all",
    "full",
    "records",
    "task_records",
}


def check_get_run_include_item(value: str) -> GetRunIncludeItem:
    if value in GET_RUN_INCLUDE_ITEM_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {GET_RUN_INCLUDE_ITEM_VALUES!r}")
