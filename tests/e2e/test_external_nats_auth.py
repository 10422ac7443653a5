"""An external NATS that requires authentication: the gateway and workers connect with the
credentials given in settings (a token, or a user and password), and a process without them
is refused with a message that says which setting to use."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyoco_server.domain.settings import Settings
from pyoco_server.local.natsserver import NatsServer
from tests.support.flows import FLOW_YAML
from tests.support.processes import BIN, Gateway, WorkerFactory, process_env
from tests.support.runs import submit
from tests.support.waiting import wait_terminal

SCHEMES = {
    "token": (
        'authorization { token: "t0ken-for-tests" }',
        {"PYOCO_NATS_TOKEN": "t0ken-for-tests"},
    ),
    "user": (
        'authorization { users: [{user: "pyoco", password: "pa55-for-tests"}] }',
        {"PYOCO_NATS_USER": "pyoco", "PYOCO_NATS_PASSWORD": "pa55-for-tests"},
    ),
}


@pytest.fixture(params=sorted(SCHEMES))
def scheme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def nats_server(tmp_path: Path, scheme: str) -> Iterator[NatsServer]:
    """A nats-server that requires authentication (overrides the plain one)."""
    config = tmp_path / "nats.conf"
    config.write_text(SCHEMES[scheme][0] + "\n")
    server = NatsServer(tmp_path / "nats", config_file=config)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings_env(settings_env: dict[str, str], scheme: str) -> dict[str, str]:
    return {**settings_env, **SCHEMES[scheme][1]}


def test_gateway_and_worker_connect_with_the_configured_credentials(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker()
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        run_id = submit(client, FLOW_YAML)
        assert wait_terminal(client, run_id)["status"] == "COMPLETED"


def test_without_credentials_the_admin_is_refused_and_told_why(settings: Settings) -> None:
    bare = settings.replace(nats_token="", nats_user="", nats_password="")
    done = subprocess.run(
        [str(BIN / "pyoco-server-admin"), "api-key", "list"],
        env=process_env(bare),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "authorization" in done.stderr.lower(), done.stderr
    assert "PYOCO_NATS_" in done.stderr, done.stderr
