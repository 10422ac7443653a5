"""A task output too big for its record: the run completes, the record says what was not kept.

A real gateway and worker. A task returns 300 MiB of text; its run completes, its record holds a
note in place of the output, and the next task received the whole value. Before, the run
process's message to the worker was over the largest it may send, and the run failed `crashed`,
"the run's process broke the protocol", its process replaced.
"""

from __future__ import annotations

from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import status, submit
from tests.support.waiting import wait_terminal

SIZE = 300 * 1024 * 1024


def test_a_huge_output_is_noted_not_sent_and_reaches_the_next_task(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker()
    workflow = flow_yaml("big_output", "measure", defaults=f"{{size: {SIZE}}}")
    with gateway.client(timeout=30) as client:
        run_id = submit(client, workflow)
        snapshot = wait_terminal(client, run_id, timeout=60)
        records = status(client, run_id)["task_records"]
    assert snapshot["status"] == "COMPLETED", snapshot
    assert isinstance(records, dict)
    produced, measured = records["big_output"], records["measure"]
    assert produced["output"] == (
        f"<text of {SIZE} characters: more than the 262144 bytes a task's record may hold "
        "(PYOCO_MAX_RUN_SNAPSHOT_BYTES); not kept>"
    )
    assert produced["output_converted"] is True
    assert measured["output"] == SIZE
    assert measured["inputs"]["big_output"].startswith(f"<text of {SIZE} characters")
