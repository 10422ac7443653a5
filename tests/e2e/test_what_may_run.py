"""What may run, tried as a hostile tenant would: a `user` key, real gateway and worker processes.

Dangerous callables are refused at the gateway (422) and, when a job reaches a worker by another
path, by the worker before anything is imported; run processes see no secret in their
environment and cannot use the worker's NATS rights.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyoco_server.domain.codec import JOB
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.domain.subjects import Subjects
from tests.support.cli import create_key
from tests.support.nats import publish_raw, stored_snapshot, write_snapshot
from tests.support.processes import BIN, WorkerFactory, process_env, start_gateway
from tests.support.samples import job
from tests.support.waiting import TERMINAL, wait_terminal, wait_until

PEPPER = "pepper-that-must-never-leak-7d1c"

DANGEROUS = (
    "subprocess:getoutput",
    "os:system",
    "timeit:timeit",
    "runpy:run_path",
    "builtins:eval",
    "shutil:rmtree",
    "importlib:import_module",
    "pickle:loads",
)


def one_task_flow(
    callable_path: str,
    inputs: dict[str, str] | None = None,
    expose_env: list[str] | None = None,
) -> bytes:
    """A flow.yaml of one task `t` (written as JSON, which is YAML)."""
    task = {"callable": callable_path, **({"inputs": inputs} if inputs else {})}
    document: dict[str, object] = {
        "version": 1,
        "flow": {"graph": "t", "defaults": {}},
        "tasks": {"t": task},
    }
    if expose_env is not None:
        document["runtime"] = {"expose_env": expose_env}
    return json.dumps(document).encode()


@pytest.fixture
def secured_env(settings_env: dict[str, str]) -> dict[str, str]:
    settings_env.update(PYOCO_HTTP_AUTH_MODE="api_key", PYOCO_AUTH_PEPPER=PEPPER)
    return settings_env


@pytest.fixture
def user_client(
    secured_env: dict[str, str], settings: Settings, tmp_path: Path
) -> Iterator[httpx.Client]:
    gateway = start_gateway(settings, tmp_path)
    key = create_key(settings, tenant="mallory", role="user")
    try:
        with gateway.client(headers={"X-API-Key": key}) as client:
            yield client
    finally:
        gateway.process.stop()


@pytest.mark.parametrize("callable_path", DANGEROUS)
def test_a_user_key_cannot_submit_standard_library_callables(
    user_client: httpx.Client, callable_path: str
) -> None:
    response = user_client.post(
        "/runs/yaml",
        files={"workflow": ("flow.yaml", one_task_flow(callable_path))},
        data={"flow_name": "main", "params": '{"cmd": "id"}'},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["reason"] == "callable_not_allowed"
    assert callable_path in problem["detail"]
    assert user_client.get("/runs").json()["items"] == []


def test_a_module_that_merely_imports_a_dangerous_function_is_refused_too(
    user_client: httpx.Client,
) -> None:
    response = user_client.post(
        "/runs/yaml",
        files={"workflow": ("flow.yaml", one_task_flow("tests.support.shady:getoutput"))},
        data={"flow_name": "main"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "callable_not_allowed"


def test_a_key_narrowed_to_some_modules_cannot_use_others(
    secured_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            str(BIN / "pyoco-server-admin"),
            "api-key",
            "create",
            "--tenant",
            "acme",
            "--task-modules",
            "my_ext",
        ],
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert created["task_modules"] == ["my_ext"]
    gateway = start_gateway(settings, tmp_path)
    try:
        with gateway.client(headers={"X-API-Key": created["api_key"]}) as client:
            # The workers allow tests.support.tasks; this key may not use it.
            response = client.post(
                "/runs/yaml",
                files={"workflow": ("flow.yaml", one_task_flow("tests.support.tasks:echo"))},
                data={"flow_name": "main"},
            )
            assert response.status_code == 422, response.text
            assert "outside the modules this API key may use (my_ext)" in response.json()["detail"]
    finally:
        gateway.process.stop()


def forge(settings: Settings, callable_path: str) -> str:
    """Put a job on the work stream directly, as someone with NATS access but no key would."""
    run_id = f"forged-{uuid.uuid4().hex[:8]}"
    workflow = one_task_flow(callable_path).decode()
    write_snapshot(
        settings,
        RunSnapshot(
            run_id=run_id,
            flow_name="main",
            tag="default",
            tags=("default",),
            status=RunStatus.PENDING,
            params={"x": 1},
            submitted_at=1.0,
            updated_at=1.0,
        ),
    )
    forged = job(run_id, params={"x": 1}, workflow_yaml=workflow)
    publish_raw(
        settings.nats_url, Subjects.from_settings(settings).work("default"), JOB.encode(forged)
    )
    return run_id


@pytest.mark.parametrize(
    "callable_path", ["tests.support.shady:honest", "subprocess:getoutput", "os:system"]
)
def test_a_forged_job_fails_at_the_worker_with_nothing_imported(
    settings: Settings, start_worker: WorkerFactory, tmp_path: Path, callable_path: str
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    start_worker(env={"TMPDIR": str(scratch)})
    run_id = forge(settings, callable_path)

    def ended() -> RunSnapshot | None:
        snapshot, _ = stored_snapshot(settings, run_id)
        return snapshot if snapshot.status.value in TERMINAL else None

    snapshot = wait_until(ended, timeout=30, what="the forged run to end")
    assert isinstance(snapshot, RunSnapshot)
    assert snapshot.status is RunStatus.FAILED
    assert snapshot.error_reason == "callable_not_allowed", snapshot
    assert not (scratch / "shady-imported").exists()


def test_the_import_marker_shows_when_the_module_is_allowed(
    settings: Settings, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    """The control of the test above: allowed, the same module runs and leaves its marker."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    modules = "tests.support.tasks,tests.support.shady"
    start_worker(env={"TMPDIR": str(scratch), "PYOCO_TASK_MODULES": modules})
    run_id = forge(settings, "tests.support.shady:honest")

    def ended() -> RunSnapshot | None:
        snapshot, _ = stored_snapshot(settings, run_id)
        return snapshot if snapshot.status.value in TERMINAL else None

    snapshot = wait_until(ended, timeout=30, what="the forged run to end")
    assert isinstance(snapshot, RunSnapshot)
    assert snapshot.status is RunStatus.COMPLETED, snapshot
    assert (scratch / "shady-imported").exists()


def test_a_run_sees_no_secret_in_its_environment(
    secured_env: dict[str, str],
    user_client: httpx.Client,
    start_worker: WorkerFactory,
) -> None:
    # The operator allows HARMLESS (PYOCO_* names cannot be allowed: the worker refuses such a
    # setting); the flow asks for the secrets as well.
    start_worker(env={"PYOCO_TASK_ENV": "HARMLESS", "HARMLESS": "visible"})
    names = ["HARMLESS", "PYOCO_AUTH_PEPPER", "PYOCO_NATS_URL"]
    results = {}
    for name in names:
        workflow = one_task_flow("tests.support.tasks:echo", {"x": f"$env.{name}"}, names)
        response = user_client.post(
            "/runs/yaml", files={"workflow": ("flow.yaml", workflow)}, data={"flow_name": "main"}
        )
        assert response.status_code == 201, response.text
        results[name] = wait_terminal(user_client, response.json()["run_id"])
    assert results["HARMLESS"]["status"] == "COMPLETED", results["HARMLESS"]
    assert results["HARMLESS"]["task_records"]["t"]["output"] == "visible"  # type: ignore[index]
    for name in ("PYOCO_AUTH_PEPPER", "PYOCO_NATS_URL"):
        assert results[name]["status"] == "FAILED", results[name]
        assert f"'{name}' not found" in str(results[name]["error"])
    everything = json.dumps(results)
    assert PEPPER not in everything
    assert secured_env["PYOCO_NATS_URL"] not in everything
