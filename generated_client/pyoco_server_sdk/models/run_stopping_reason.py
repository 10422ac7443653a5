from typing import Literal

RunStoppingReason = Literal["cancel", "timeout"]

RUN_STOPPING_REASON_VALUES: set[RunStoppingReason] = {
    "cancel",
    "timeout",
}


def check_run_stopping_reason(value: str) -> RunStoppingReason:
    if value in RUN_STOPPING_REASON_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RUN_STOPPING_REASON_VALUES!r}")
