"""The seed's commands keep working with the embedded NATS's users: a `pyoco-worker`,
`pyoco-server-admin` or second `up` started in the directory of `up` finds the credentials `up`
generated there (`.pyoco/nats/auth/`), with no setting; elsewhere NATS refuses them."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.flows import FLOW_YAML
from tests.support.processes import BIN, Process, free_port, start_process, start_up
from tests.support.runs import submit
from tests.support.waiting import wait_terminal, wait_until


class Project:
    def __init__(self, directory: Path, url: str, nats_url: str) -> None:
        self.directory = directory
        self.url = url
        self.nats_url = nats_url


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """`pyoco-server up --no-worker` in a fresh directory, its NATS store in the default place."""
    directory = tmp_path / "project"
    directory.mkdir()
    nats_port = free_port()
    process, url = start_up(
        tmp_path, "--no-worker", "--nats-client-port", str(nats_port), cwd=directory
    )
    try:
        yield Project(directory, url, f"nats://127.0.0.1:{nats_port}")
    finally:
        process.stop()


def admin(project: Project, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pyoco-server-admin"), "--nats-url", project.nats_url, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_generated_credentials_stay_in_the_project(project: Project) -> None:
    auth = project.directory / ".pyoco" / "nats" / "auth"
    assert sorted(path.name for path in auth.iterdir()) == [
        "admin.json",
        "gateway.json",
        "worker.json",
    ]
    assert oct(auth.stat().st_mode & 0o777) == "0o700"


def test_admin_in_the_project_directory_needs_no_setting(project: Project, tmp_path: Path) -> None:
    done = admin(project, project.directory, "api-key", "create", "--tenant", "t")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["api_key"]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refused = admin(project, elsewhere, "api-key", "list")
    assert refused.returncode == 1
    assert "authorization" in refused.stderr.lower(), refused.stderr


def test_a_worker_and_a_second_up_in_the_project_directory_work(
    project: Project, tmp_path: Path
) -> None:
    worker: Process = start_process(
        "worker",
        [str(BIN / "pyoco-worker"), "--nats-url", project.nats_url, "--tags", "default"],
        dict(os.environ),
        tmp_path,
        cwd=project.directory,
    )
    second, second_url = None, ""
    try:
        wait_until(
            lambda: (
                "serving tags" in worker.log() or (not worker.alive() and pytest.fail(worker.log()))
            ),
            timeout=30,
            what="the worker",
        )
        second, second_url = start_up(
            tmp_path, "--no-worker", "--nats-url", project.nats_url, cwd=project.directory
        )
        for url in (project.url, second_url):
            with httpx.Client(base_url=url, timeout=10) as client:
                run_id = submit(client, FLOW_YAML)
                assert wait_terminal(client, run_id)["status"] == "COMPLETED"
    finally:
        worker.stop()
        if second is not None:
            second.stop()
