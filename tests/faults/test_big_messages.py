"""Big params, outputs and exceptions through a real worker (uvloop, as shipped): every run of
the same input ends the same way, 20 out of 20, and its snapshot is always written."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import status as status_of
from tests.support.runs import submit
from tests.support.waiting import wait_terminal

pytestmark = pytest.mark.serial

REPEATS = 20

CASES = {
    "250 KB params": ("echo", {"x": "p" * 250_000}),
    "1 MB output": ("big_output", {"size": 1_000_000}),
    "1 MB exception": ("big_error", {"size": 1_000_000}),
}


def outcome(snapshot: dict[str, object]) -> tuple[object, ...]:
    """What must be the same for every run of one input."""
    error = snapshot.get("error")
    return (
        snapshot["status"],
        snapshot.get("error_reason"),
        len(error) if isinstance(error, str) else None,
        snapshot.get("task_records_truncated"),
        json.dumps(snapshot.get("tasks"), sort_keys=True),
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_big_messages_give_the_same_result_every_time(
    gateway: Gateway, start_worker: WorkerFactory, case: str
) -> None:
    start_worker()
    task, params = CASES[case]
    with gateway.client(timeout=60) as client:
        run_ids = [
            submit(client, flow_yaml(task), params=json.dumps(params)) for _ in range(REPEATS)
        ]
        ended = [wait_terminal(client, run_id, timeout=120) for run_id in run_ids]
    results = Counter(outcome(snapshot) for snapshot in ended)
    assert len(results) == 1, results
    ((status, reason, error_length, truncated, tasks),) = results
    if task == "big_error":
        assert (status, reason) == ("FAILED", "execution_error")
        assert error_length is not None
        assert error_length < 10_000  # cut at the source, head and tail kept
        assert "characters cut" in str(ended[0]["error"])
    elif task == "big_output":
        assert (status, reason) == ("COMPLETED", None)
        assert not truncated  # the output, too big to keep, is a note in its record
        with gateway.client() as client:
            records = status_of(client, run_ids[0])["task_records"]
        assert isinstance(records, dict)
        assert str(records[task]["output"]).startswith("<text of 1000000 characters: more than")
    else:
        assert (status, reason) == ("COMPLETED", None)
        assert truncated is True  # too big to keep: the status is what matters
    assert json.loads(str(tasks)) == {task: "FAILED" if task == "big_error" else "SUCCEEDED"}
