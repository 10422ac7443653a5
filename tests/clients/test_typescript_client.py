"""The TypeScript client (clients/typescript) against the real stack: `npm test` run by pytest.

Each test starts NATS, a gateway and a worker on tag `default` (the shared fixtures), then runs
the client's node tests against it with PYOCO_SERVER_URL (and an API key when auth is on).
Interop: a run submitted here with the Python client is read by the TypeScript tests
(PYOCO_INTEROP_RUN_ID), and the run they submit is read here (PYOCO_INTEROP_OUT).

Skipped when `npm ci` has not run in clients/typescript, unless PYOCO_REQUIRE_NODE is set
(CI sets it, so a missing toolchain fails there instead of passing unnoticed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyoco_client import Client
from pyoco_server.domain.settings import Settings
from tests.support.cli import create_key
from tests.support.flows import FLOW_YAML, TEST_TASKS
from tests.support.processes import ROOT, Gateway, WorkerFactory, start_gateway

CLIENT_DIR = ROOT / "clients" / "typescript"
NPM_TIMEOUT_SEC = 240
REQUIRE_NODE = bool(os.environ.get("PYOCO_REQUIRE_NODE"))
"""Read at import: the shared autouse fixture clears PYOCO_* variables before each test."""


@pytest.fixture(autouse=True)
def _node_toolchain() -> None:
    """Skip without npm or `npm ci`'s node_modules; fail instead with PYOCO_REQUIRE_NODE set."""
    missing = []
    if shutil.which("npm") is None:
        missing.append("npm on PATH")
    if not (CLIENT_DIR / "node_modules").is_dir():
        missing.append("clients/typescript/node_modules (run `npm ci --prefix clients/typescript`)")
    if missing and not REQUIRE_NODE:
        pytest.skip(f"TypeScript client not set up: no {' and no '.join(missing)}")
    if missing:
        pytest.fail(f"PYOCO_REQUIRE_NODE is set but there is no {' and no '.join(missing)}")


@pytest.fixture
def auth_gateway(settings: Settings, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway that requires API keys (PYOCO_HTTP_AUTH_MODE=api_key)."""
    gateway = start_gateway(settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key")
    yield gateway
    gateway.process.stop()


def npm_test(url: str, tmp_path: Path, api_key: str | None = None) -> None:
    """Run the TypeScript tests against `url`, with a run to read from the Python side and the
    id of the run they submit read back here: both clients see each other's runs."""
    with Client(url, api_key=api_key) as client:
        from_python = client.submit_yaml(FLOW_YAML, "main")["run_id"]
        out = tmp_path / "typescript-run-id"
        env = {
            name: value for name, value in os.environ.items() if not name.startswith("PYOCO_")
        } | {
            "PYOCO_SERVER_URL": url,
            "PYOCO_SLEEP_CALLABLE": f"{TEST_TASKS}:sleep_for",
            "PYOCO_INTEROP_RUN_ID": from_python,
            "PYOCO_INTEROP_OUT": str(out),
        }
        if api_key is not None:
            env |= {"PYOCO_API_KEY": api_key, "PYOCO_AUTH_REQUIRED": "1"}
        done = subprocess.run(
            ["npm", "test"],
            cwd=CLIENT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_SEC,
            check=False,
        )
        output = f"{done.stdout}\n{done.stderr}"
        assert done.returncode == 0, f"npm test failed:\n{output}"
        assert "# fail 0" in done.stdout, output
        skipped = 0 if api_key is not None else 1  # the 401 check needs auth on
        assert f"# skipped {skipped}\n" in done.stdout, f"a live test did not run:\n{output}"
        from_typescript = out.read_text().strip()
        run = client.wait(from_typescript, timeout=60, records=True)
        assert run["run_id"] == from_typescript
        assert run["status"] == "COMPLETED"
        assert run["params"] == {"x": 41}
        assert run["task_records"]["to_text"]["output"] == "42"


def test_typescript_client_without_auth(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker()
    npm_test(gateway.url, tmp_path)


def test_typescript_client_with_api_keys(
    auth_gateway: Gateway, settings: Settings, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker()
    npm_test(auth_gateway.url, tmp_path, api_key=create_key(settings, "ts", "user"))
