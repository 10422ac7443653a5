"""Schemathesis against the gateway in-process, with a real NATS: every phase, stateful included.

Schemathesis needs the schema at import time (its fixture loader does not work with pytest 9),
so the app is built here for a NATS port picked now; the module fixture starts nats-server on
that port (with a temporary store) before the first test runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from pyoco_server.gateway import create_app
from pyoco_server.natsserver import NatsServer
from pyoco_server.settings import Settings
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG = schemathesis.Config.from_path(ROOT / "schemathesis.toml")
NATS_PORT = free_port()

app = create_app(
    Settings.from_env(
        {"PYOCO_NATS_URL": f"nats://127.0.0.1:{NATS_PORT}", "PYOCO_LOAD_DOTENV": "0"}
    ),
    validate_responses=True,
)
schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def nats_for_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path_factory.mktemp("nats"), port=NATS_PORT)
    server.start()
    yield server
    server.stop()


@schema.parametrize()
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    case.call_and_validate()


APIWorkflow = schema.as_state_machine()
APIWorkflow.TestCase.settings = hypothesis_settings(
    max_examples=30,
    stateful_step_count=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
TestAPIWorkflow = APIWorkflow.TestCase
