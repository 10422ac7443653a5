"""A task module edited while a worker runs: never a mix of versions across its run processes.

With `--reload` every run after the edit runs the new code; without it every run, in warm run
processes and in fresh ones alike, runs the code the worker loaded first, and the worker says
once that it must be restarted.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.support.processes import Gateway, Process, WorkerFactory
from tests.support.runs import submit
from tests.support.waiting import wait_terminal, wait_until

MODULE = "edited_tasks"
FLOW = f"""\
version: 1
flow:
  graph: answer
tasks:
  answer: {{callable: "{MODULE}:answer"}}
""".encode()


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "PYOCO_TASK_MODULES": f"tests.support.tasks,{MODULE}"}


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """The task module, on the worker's PYTHONPATH."""
    (tmp_path / "code").mkdir()
    path = tmp_path / "code" / f"{MODULE}.py"
    write(path, "old")
    return path


def write(path: Path, answer: str) -> None:
    """`answer()` returns `answer`; the file keeps its size, as a quick edit may."""
    mtime = path.stat().st_mtime_ns if path.exists() else None
    path.write_text(f"def answer() -> str:\n    return {answer!r}\n")
    if mtime is not None:  # an edit within the same second as the last one
        os.utime(path, ns=(mtime + 1000, mtime + 1000))


def worker(start_worker: WorkerFactory, module: Path, *args: str) -> Process:
    return start_worker(args=["--concurrency", "3", *args], env={"PYTHONPATH": str(module.parent)})


def answers(client: httpx.Client, runs: int) -> list[object]:
    """Submit `runs` runs at once, then the answer of each (or its error)."""
    run_ids = [submit(client, FLOW) for _ in range(runs)]
    ended = [wait_terminal(client, run_id) for run_id in run_ids]
    return [
        run["task_records"]["answer"]["output"]  # type: ignore[index]
        if run["status"] == "COMPLETED"
        else run["error"]
        for run in ended
    ]


def test_with_reload_every_run_after_an_edit_runs_the_new_code(
    gateway: Gateway, start_worker: WorkerFactory, module: Path
) -> None:
    started = worker(start_worker, module, "--reload")
    with gateway.client() as client:
        assert answers(client, 3) == ["old"] * 3  # every run process warm

        write(module, "new")

        assert answers(client, 10) == ["new"] * 10
    assert "changed on disk" in started.log()
    assert "keeps running the code it loaded" not in started.log()


def test_without_reload_every_run_keeps_the_loaded_code_and_the_worker_says_so(
    gateway: Gateway, start_worker: WorkerFactory, module: Path
) -> None:
    started = worker(start_worker, module)
    with gateway.client() as client:
        assert answers(client, 1) == ["old"]  # one run process has loaded the module

        write(module, "new")

        assert answers(client, 10) == ["old"] * 10  # fresh processes load the old one too
    warning = (
        f"task module {MODULE} changed on disk ({module.resolve()}); this worker keeps running "
        "the code it loaded: restart it or run it with --reload"
    )
    wait_until(lambda: warning in started.log(), 5, "the warning")
    assert started.log().count(warning) == 1
