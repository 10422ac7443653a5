from typing import Literal

WheelHistoryEventAction = Literal["delete", "upload"]

WHEEL_HISTORY_EVENT_ACTION_VALUES: set[WheelHistoryEventAction] = {
    "delete",
    "upload",
}


def check_wheel_history_event_action(value: str) -> WheelHistoryEventAction:
    if value in WHEEL_HISTORY_EVENT_ACTION_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {WHEEL_HISTORY_EVENT_ACTION_VALUES!r}")
