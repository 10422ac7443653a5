"""clients/nats-types against a real deployment: its example decodes a run's snapshots from NATS.

A run is submitted over HTTP while no worker serves its tag (so it stays PENDING), the node test
(clients/nats-types/test/) starts watching the runs bucket, then a worker runs the run; the node
test must decode every snapshot with the generated types through to COMPLETED.

Needs `npm ci --prefix clients/nats-types`; skipped without it unless PYOCO_REQUIRE_NODE is set
(CI sets it, so a missing install fails there instead of passing silently).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.flows import FLOW_YAML
from tests.support.processes import ROOT, Gateway, WorkerFactory
from tests.support.runs import submit

PACKAGE = ROOT / "clients" / "nats-types"
REQUIRED = bool(os.environ.get("PYOCO_REQUIRE_NODE"))  # read before the env is isolated
NODE = shutil.which("node")
INSTALLED = (PACKAGE / "node_modules").is_dir() and NODE is not None
TIMEOUT_SEC = 90

pytestmark = pytest.mark.skipif(
    not INSTALLED and not REQUIRED,
    reason="clients/nats-types/node_modules missing (run `npm ci --prefix clients/nats-types`; "
    "set PYOCO_REQUIRE_NODE=1 to fail instead)",
)


def compile_package() -> Path:
    assert NODE is not None, "node is not on PATH"
    assert (PACKAGE / "node_modules").is_dir(), "run `npm ci --prefix clients/nats-types`"
    tsc = PACKAGE / "node_modules" / "typescript" / "bin" / "tsc"
    subprocess.run(
        [NODE, str(tsc), "-p", str(PACKAGE / "tsconfig.json")], check=True, timeout=TIMEOUT_SEC
    )
    return PACKAGE / "dist" / "test" / "watch-runs.test.js"


def test_the_example_decodes_a_run_through_to_completed(
    gateway: Gateway, start_worker: WorkerFactory, nats_server_url: str
) -> None:
    node_test = compile_package()
    with gateway.client() as client:
        run_id = submit(client, FLOW_YAML)  # no worker yet: the run waits, PENDING
    env = {"PATH": os.environ["PATH"], "PYOCO_NATS_URL": nats_server_url, "PYOCO_RUN_ID": run_id}
    with subprocess.Popen(
        [str(NODE), "--test", "--test-reporter=spec", str(node_test)],
        cwd=PACKAGE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as node:
        try:
            start_worker()
            output, _ = node.communicate(timeout=TIMEOUT_SEC)
        finally:
            if node.poll() is None:
                node.kill()  # only the process this test started
    print(output)  # the statuses the example decoded, shown by `pytest -s` or on failure
    assert node.returncode == 0, output
    assert "skipped 0" in output, output
    assert "statuses: PENDING -> " in output, output
    assert " -> COMPLETED\n" in output, output


@pytest.fixture
def nats_server_url(settings_env: dict[str, str]) -> str:
    return settings_env["PYOCO_NATS_URL"]
