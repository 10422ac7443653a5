"""Schemathesis against the gateway in-process, with a real NATS: every phase, stateful included.

Schemathesis needs the schema at import time (its fixture loader does not work with pytest 9):
it is loaded from the spec as the gateway serves it. The app is built by the module fixture, on
a nats-server with a random port (and a temporary store), and every call is sent to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis

from pyoco_server.domain.settings import Settings
from pyoco_server.gateway._connexion import GatewayApp
from pyoco_server.gateway.app import served_spec
from tests.support.fuzzing import EXAMPLES, SCHEMATHESIS_TOML, STATEFUL, Served

CONFIG = schemathesis.Config.from_path(SCHEMATHESIS_TOML)

served = Served()
schema = served.in_process(schemathesis.openapi.from_dict(served_spec(Settings()), config=CONFIG))


def settings_for(nats_url: str) -> Settings:
    return Settings.from_env({"PYOCO_NATS_URL": nats_url, "PYOCO_LOAD_DOTENV": "0"})


@pytest.fixture(scope="module", autouse=True)
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayApp]:
    with served.gateway(tmp_path_factory.mktemp("nats"), settings_for) as built:
        yield built


@schema.parametrize()
@EXAMPLES
def test_every_operation_conforms(case: schemathesis.Case, app: GatewayApp) -> None:
    case.call_and_validate(app=app)


class APIWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        # Not just `call`: these kwargs also reach the checks, whose probes must go to the app.
        return {**super().get_call_kwargs(case), "app": served.app}


APIWorkflow.TestCase.settings = STATEFUL
TestAPIWorkflow = APIWorkflow.TestCase
