"""Schemathesis against the gateway with API keys on: every phase, stateful included.

As in test_schemathesis.py, the schema is loaded at import from the spec as the gateway serves it
(with API keys on, so every operation but /health declares the key), and the module fixture
builds the app on a nats-server with a random port. An admin key is issued at import; the
fixture stores its record in the `pyoco_auth` bucket before the app is built (the app's
lifespan, started by the first request, then loads it). Schemathesis sends the key through its
OpenAPI-aware auth configuration, so it counts as explicit auth and the `ignored_auth` check
probes every operation without a key and with a made-up one, and expects 401/403.
"""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis

from pyoco_server.domain import keys
from pyoco_server.domain.records import Role
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway._connexion import GatewayApp
from pyoco_server.gateway.app import served_spec
from pyoco_server.jetstream import NatsBackend
from tests.support.fuzzing import EXAMPLES, SCHEMATHESIS_TOML, STATEFUL, Served

AUTH_ENV = {
    "PYOCO_LOAD_DOTENV": "0",
    "PYOCO_HTTP_AUTH_MODE": "api_key",
    "PYOCO_AUTH_PEPPER": "contract-pepper",
}
SETTINGS = Settings.from_env(AUTH_ENV)
"""The gateway's settings but for its NATS URL (which the fixture picks)."""
ADMIN_KEY, ADMIN_RECORD = keys.issue("contract", Role.ADMIN, SETTINGS.auth_pepper, time.time())


def _config() -> schemathesis.Config:
    """schemathesis.toml, plus the admin key for the spec's `ApiKeyAuth` scheme."""
    data = tomllib.loads(SCHEMATHESIS_TOML.read_text())
    data["auth"] = {"openapi": {"ApiKeyAuth": {"api_key": ADMIN_KEY}}}
    return schemathesis.Config.from_dict(data, base_dir=str(SCHEMATHESIS_TOML.parent))


served = Served()
schema = served.in_process(schemathesis.openapi.from_dict(served_spec(SETTINGS), config=_config()))


def settings_for(nats_url: str) -> Settings:
    return Settings.from_env({**AUTH_ENV, "PYOCO_NATS_URL": nats_url})


def store_admin_key(settings: Settings) -> None:
    async def store() -> None:
        backend = NatsBackend(settings, "pyoco-contract-tests-admin")
        await backend.start()
        try:
            assert await backend.wait_ready(10)
            await backend.api_keys.create(ADMIN_RECORD)
        finally:
            await backend.close()

    asyncio.run(store())


@pytest.fixture(scope="module", autouse=True)
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayApp]:
    store = tmp_path_factory.mktemp("nats")
    with served.gateway(store, settings_for, store_admin_key) as built:
        yield built


@schema.parametrize()
@EXAMPLES
def test_every_operation_conforms_with_a_key(case: schemathesis.Case, app: GatewayApp) -> None:
    case.call_and_validate(app=app)


class APIWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        # Not just `call`: these kwargs also reach the checks, whose probes must go to the app.
        return {**super().get_call_kwargs(case), "app": served.app}


APIWorkflow.TestCase.settings = STATEFUL
TestAPIWorkflowWithKey = APIWorkflow.TestCase
