"""Schemathesis against the gateway in-process, with a real NATS: every phase, stateful included.

Schemathesis needs the schema at import time (its fixture loader does not work with pytest 9),
so the app is built here for a NATS port picked now; the module fixture starts nats-server on
that port (with a temporary store) before the first test runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis

from pyoco_server.gateway import create_app
from pyoco_server.natsserver import NatsServer
from pyoco_server.settings import Settings
from tests.conftest import free_port
from tests.contract.fuzzing import EXAMPLES, SCHEMATHESIS_TOML, STATEFUL, nats_on_port

CONFIG = schemathesis.Config.from_path(SCHEMATHESIS_TOML)
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
    with nats_on_port(tmp_path_factory.mktemp("nats"), NATS_PORT) as server:
        yield server


@schema.parametrize()
@EXAMPLES
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    case.call_and_validate()


APIWorkflow = schema.as_state_machine()
APIWorkflow.TestCase.settings = STATEFUL
TestAPIWorkflow = APIWorkflow.TestCase
