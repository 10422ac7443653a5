"""ProcessPool with reload on: a `file.py` flow resolver edited between runs is picked up.

The resolver is loaded by each run process as it starts (never by the fork server when reload
is on), and its file is reported right after `Ready`; the pool replaces a process whose
resolver changed before the process takes another run.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from pyoco_server.domain.records import Job
from pyoco_server.domain.snapshot import RunStatus
from pyoco_worker.child import ChildConfig
from tests.support.pool import TEST_TASKS, execute, run, started_pool

RESOLVER = """\
from pyoco import Flow, task


@task
def answer() -> str:
    return {answer!r}


def resolve(flow_name: str) -> Flow:
    flow = Flow(name=flow_name)
    flow >> answer
    return flow
"""


def write(path: Path, answer: str) -> None:
    """The resolver's task returns `answer`; an edit keeps the size, in the same second."""
    mtime = path.stat().st_mtime_ns if path.exists() else None
    path.write_text(RESOLVER.format(answer=answer))
    if mtime is not None:
        os.utime(path, ns=(mtime + 1000, mtime + 1000))


def by_name() -> Job:
    return Job(
        run_id=f"run-{uuid.uuid4().hex[:8]}",
        flow_name="answer",
        tag="default",
        tags=("default",),
        params={},
        submitted_at=time.time(),
    )


def test_an_edited_file_resolver_is_picked_up_before_the_next_run(tmp_path: Path) -> None:
    resolver = tmp_path / "flows.py"
    write(resolver, "old")
    config = ChildConfig(resolver_spec=f"{resolver}:resolve", policy=TEST_TASKS, reload=True)

    async def answers() -> list[object]:
        found = []
        async with started_pool(1, config=config) as pool:
            for edit in (None, "new", None):
                if edit is not None:
                    write(resolver, edit)
                outcome = await execute(pool, by_name())
                assert outcome.status is RunStatus.COMPLETED, outcome.error
                found.append(outcome.records["answer"].output)
        return found

    assert run(answers()) == ["old", "new", "new"]
