from typing import Literal

ListWorkersScope = Literal["active", "all"]

LIST_WORKERS_SCOPE_VALUES: set[ListWorkersScope] = {
    "active",
    "all",
}


def check_list_workers_scope(value: str) -> ListWorkersScope:
    if value in LIST_WORKERS_SCOPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LIST_WORKERS_SCOPE_VALUES!r}")
