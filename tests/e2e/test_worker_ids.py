"""Two workers started on one host without `--worker-id` get distinct ids and both take runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pyoco_server.domain.settings import Settings
from pyoco_worker.cli import host_worker_id
from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, Process, process_env, start_process
from tests.support.runs import submit
from tests.support.waiting import wait_terminal, wait_until


def unnamed_worker(settings: Settings, tmp_path: Path, name: str) -> Process:
    """A `pyoco-worker` started without `--worker-id`, once it serves."""
    command = [sys.executable, "-m", "pyoco_worker.cli", "--tags", "default", "--concurrency", "1"]
    process = start_process(name, command, process_env(settings), tmp_path)
    wait_until(
        lambda: (
            "serving tags" in process.log() or (not process.alive() and pytest.fail(process.log()))
        ),
        timeout=30,
        what=name,
    )
    return process


def test_two_workers_without_ids_on_one_host_are_told_apart_and_both_run(
    gateway: Gateway, settings: Settings, tmp_path: Path
) -> None:
    unnamed_worker(settings, tmp_path, "first")
    unnamed_worker(settings, tmp_path, "second")
    host = host_worker_id()

    with gateway.client() as client:
        workers = client.get("/workers").json()["items"]
        assert sorted(worker["worker_id"] for worker in workers) == [host, f"{host}-2"]

        run_ids = [
            submit(client, flow_yaml("sleep_for"), params='{"seconds": 1}') for _ in range(2)
        ]
        ran_on = {str(wait_terminal(client, run_id)["worker_id"]) for run_id in run_ids}

    assert ran_on == {host, f"{host}-2"}, "each worker took one of the two runs"
