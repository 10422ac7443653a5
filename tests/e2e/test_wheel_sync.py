"""Task code through the registry, in real processes: uv builds a wheel, the CLI uploads it,
a `--wheel-sync` worker installs it and runs flow.yaml tasks from it.

Nothing is mocked: nats-server, the gateway, the worker (and its run processes), `uv build`,
`uv pip install` and `pyoco-client` all run as they would for a user.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyoco_server.domain.settings import Settings
from tests.support.processes import BIN, Gateway, WorkerFactory, process_env
from tests.support.runs import status, submit
from tests.support.waiting import TERMINAL, wait_until
from tests.support.wheels import task_wheel, upload, wheel_bytes


def answer_flow(task: str = "answer", defaults: str = "{x: 1}") -> bytes:
    """A one-task flow.yaml whose task comes from the `my_ext` wheel."""
    return (
        "version: 1\n"
        "flow:\n"
        f"  graph: {task}\n"
        f"  defaults: {defaults}\n"
        "tasks:\n"
        f'  {task}: {{callable: "my_ext:{task}"}}\n'
    ).encode()


def client_cli(
    gateway: Gateway, settings: Settings, *args: str
) -> subprocess.CompletedProcess[str]:
    """The real `pyoco-client` console script against the gateway."""
    return subprocess.run(
        [str(BIN / "pyoco-client"), "--server", gateway.url, *args],
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def finished(client: httpx.Client, run_id: str, timeout: float = 60) -> dict[str, Any]:
    snapshot: dict[str, Any] = {}

    def done() -> bool:
        snapshot.update(status(client, run_id))
        return snapshot["status"] in TERMINAL

    wait_until(done, timeout=timeout, what=f"run {run_id} to end")
    return snapshot


def output(snapshot: dict[str, Any], task: str = "answer") -> Any:
    assert snapshot["status"] == "COMPLETED", snapshot
    return snapshot["task_records"][task]["output"]


def synced(client: httpx.Client, worker_id: str, wheel: str) -> bool:
    """Whether worker `worker_id` reports `wheel` installed."""
    for worker in client.get("/workers").json()["items"]:
        if worker["worker_id"] == worker_id:
            installed = (worker.get("wheels") or {}).get("installed") or []
            return any(item["wheel"] == wheel for item in installed)
    return False


@pytest.fixture
def sync_worker(start_worker: WorkerFactory, tmp_path: Path) -> WorkerFactory:
    """Start a `--wheel-sync` worker (concurrency 1 unless told) installing into tmp_path."""

    def start(*, tags: tuple[str, ...] = ("gpu",), worker_id: str = "sync", concurrency: int = 1):
        return start_worker(
            tags=tags,
            worker_id=worker_id,
            args=[
                "--wheel-sync",
                "--wheel-sync-dir",
                str(tmp_path / f"wheels-{worker_id}"),
                "--concurrency",
                str(concurrency),
            ],
        )

    return start


def test_a_new_version_reaches_new_runs_while_earlier_runs_keep_theirs(
    gateway: Gateway, settings: Settings, sync_worker: WorkerFactory, tmp_path: Path
) -> None:
    v1 = task_wheel(tmp_path / "build", "my_ext", "0.1.0", "one")
    v2 = task_wheel(tmp_path / "build", "my_ext", "0.2.0", "two")
    done = client_cli(gateway, settings, "wheel-upload", "--wheel-file", str(v1), "--tags", "gpu")
    assert done.returncode == 0, done.stderr
    uploaded = json.loads(done.stdout)
    sync_worker()
    with gateway.client() as client:
        wait_until(lambda: synced(client, "sync", v1.name), timeout=60, what="v1 installed")
        first = finished(client, submit(client, answer_flow(), tag="gpu"))
        assert output(first) == {"answer": "one", "x": 1}
        assert first["code"] == [
            {
                "distribution": "my-ext",
                "version": "0.1.0",
                "sha256": uploaded["sha256_hex"],
                "wheel": v1.name,
            }
        ]

        # The one run process is busy with a run of v1; another run of v1 waits in the queue.
        gate = tmp_path / "gate"
        running = submit(client, answer_flow("wait_for", f"{{x: 2, path: '{gate}'}}"), tag="gpu")
        wait_until(lambda: status(client, running)["status"] == "RUNNING", timeout=30)
        queued = submit(client, answer_flow(), tag="gpu", params=json.dumps({"x": 3}))

        done = client_cli(
            gateway, settings, "wheel-upload", "--wheel-file", str(v2), "--tags", "gpu"
        )
        assert done.returncode == 0, done.stderr
        wait_until(lambda: synced(client, "sync", v2.name), timeout=60, what="v2 installed")
        after = submit(client, answer_flow(), tag="gpu", params=json.dumps({"x": 4}))
        assert status(client, queued)["status"] == "PENDING"
        gate.write_text("go")

        assert output(finished(client, running), "wait_for") == {"answer": "one", "x": 2}
        old = finished(client, queued)
        assert output(old) == {"answer": "one", "x": 3}
        assert [code["version"] for code in old["code"]] == ["0.1.0"]
        new = finished(client, after)
        assert output(new) == {"answer": "two", "x": 4}
        assert [code["version"] for code in new["code"]] == ["0.2.0"]


def test_a_pin_runs_an_older_version_and_a_pin_nobody_has_is_refused(
    gateway: Gateway, sync_worker: WorkerFactory, tmp_path: Path
) -> None:
    sync_worker()
    with gateway.client() as client:
        for version, word in (("0.1.0", "one"), ("0.2.0", "two")):
            wheel = task_wheel(tmp_path / "build", "my_ext", version, word)
            assert upload(client, wheel.read_bytes(), wheel.name, tags="gpu").status_code == 201
        pinned = submit(client, answer_flow(), tag="gpu", requires="my_ext==0.1.0")
        assert output(finished(client, pinned)) == {"answer": "one", "x": 1}

        response = client.post(
            "/runs/yaml",
            files={"workflow": ("flow.yaml", answer_flow())},
            data={"flow_name": "main", "tag": "gpu", "requires": "my_ext==9.9"},
        )
        assert response.status_code == 422, response.text
        assert "my_ext==9.9" in response.json()["detail"]


def test_deleting_the_newest_version_rolls_new_runs_back_and_leaves_the_worker(
    gateway: Gateway, settings: Settings, sync_worker: WorkerFactory, tmp_path: Path
) -> None:
    sync_worker()
    installs = tmp_path / "wheels-sync" / "installs"
    wheels = [
        task_wheel(tmp_path / "build", "my_ext", v, w) for v, w in (("1.0", "a"), ("2.0", "b"))
    ]
    with gateway.client() as client:
        shas = []
        for wheel in wheels:
            response = upload(client, wheel.read_bytes(), wheel.name, tags="gpu")
            assert response.status_code == 201
            shas.append(response.json()["sha256_hex"])
        wait_until(lambda: synced(client, "sync", wheels[1].name), timeout=60)
        newest = finished(client, submit(client, answer_flow(), tag="gpu"))
        assert output(newest)["answer"] == "b"
        assert (installs / shas[1]).is_dir()

        done = client_cli(gateway, settings, "wheel-delete", "--name", wheels[1].name)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["current_version"] == "1.0"
        rolled_back = finished(client, submit(client, answer_flow(), tag="gpu"))
        assert output(rolled_back)["answer"] == "a"
        listed = client.get("/wheels").json()
        assert [item["name"] for item in listed] == [wheels[0].name]
        # The deleted version leaves the worker's disk once no run process holds it (the one
        # that ran it was recycled for the rolled-back run).
        wait_until(lambda: not (installs / shas[1]).exists(), timeout=30, what="v2 removed")
        assert (installs / shas[0]).is_dir()


def test_untagged_wheels_go_to_every_worker_and_tagged_ones_only_to_theirs(
    gateway: Gateway, sync_worker: WorkerFactory, tmp_path: Path
) -> None:
    everywhere = task_wheel(tmp_path / "build", "common_ext", "1.0", "c")
    gpu_only = task_wheel(tmp_path / "build", "my_ext", "1.0", "g")
    sync_worker(tags=("cpu",), worker_id="cpu")
    with gateway.client() as client:
        assert upload(client, everywhere.read_bytes(), everywhere.name).status_code == 201
        assert upload(client, gpu_only.read_bytes(), gpu_only.name, tags="gpu").status_code == 201
        wait_until(lambda: synced(client, "cpu", everywhere.name), timeout=60)
        (worker,) = client.get("/workers").json()["items"]
        assert [item["wheel"] for item in worker["wheels"]["installed"]] == [everywhere.name]


def test_a_wheel_the_worker_cannot_install_is_skipped_and_shown(
    gateway: Gateway, sync_worker: WorkerFactory
) -> None:
    sync_worker()
    foreign = "my_ext-1.0-cp311-cp311-win_amd64.whl"
    with gateway.client() as client:
        wheel = wheel_bytes("my_ext", "1.0")
        assert upload(client, wheel, foreign, tags="gpu").status_code == 201

        def skipped() -> list[dict[str, str]]:
            (worker,) = client.get("/workers").json()["items"]
            return list((worker.get("wheels") or {}).get("skipped") or [])

        wait_until(lambda: skipped(), timeout=60, what="the wheel shown as skipped")
        (entry,) = skipped()
        assert entry["wheel"] == foreign
        assert "win_amd64" in entry["reason"]

        response = client.post(
            "/runs/yaml",
            files={"workflow": ("flow.yaml", answer_flow())},
            data={"flow_name": "main", "tag": "gpu"},
        )
        assert response.status_code == 201
        failed = finished(client, response.json()["run_id"])
        assert failed["status"] == "FAILED"
        assert failed["error_reason"] == "code_unavailable", failed
        assert "win_amd64" in failed["error"]
