from typing import Literal

DeadLetterReason = Literal[
    "callable_not_allowed",
    "code_unavailable",
    "execution_error",
    "flow_not_found",
    "invalid_job",
    "max_deliveries_exceeded",
    "timeout",
]

DEAD_LETTER_REASON_VALUES: set[DeadLetterReason] = {
    "callable_not_allowed",
    "code_unavailable",
    "execution_error",
    "flow_not_found",
    "invalid_job",
    "max_deliveries_exceeded",
    "timeout",
}


def check_dead_letter_reason(value: str) -> DeadLetterReason:
    if value in DEAD_LETTER_REASON_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {DEAD_LETTER_REASON_VALUES!r}")
