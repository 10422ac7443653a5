from typing import Literal

ListWheelHistoryAction = Literal["delete", "upload"]

LIST_WHEEL_HISTORY_ACTION_VALUES: set[ListWheelHistoryAction] = {
    "delete",
    "upload",
}


def check_list_wheel_history_action(value: str) -> ListWheelHistoryAction:
    if value in LIST_WHEEL_HISTORY_ACTION_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LIST_WHEEL_HISTORY_ACTION_VALUES!r}")
