"""Schemathesis against the gateway with API keys on: every phase, stateful included.

As in test_schemathesis.py, the app is built at import for a NATS port picked now. An admin key
is issued now too; the module fixture starts nats-server and stores the key's record in the
`pyoco_auth` bucket before the first test (the app's lifespan, started by the first request,
then loads it). Schemathesis sends the key through its OpenAPI-aware auth configuration, so it
counts as explicit auth and the `ignored_auth` check probes every operation without a key and
with a made-up one, and expects 401/403.
"""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import Iterator

import nats
import pytest
import schemathesis

from pyoco_server import auth
from pyoco_server.codec import encode_api_key
from pyoco_server.gateway import create_app
from pyoco_server.jetstream import ensure_resources
from pyoco_server.natsserver import NatsServer
from pyoco_server.settings import Settings
from pyoco_server.tenancy import Role
from tests.conftest import free_port
from tests.contract.fuzzing import EXAMPLES, SCHEMATHESIS_TOML, STATEFUL, nats_on_port

NATS_PORT = free_port()
SETTINGS = Settings.from_env(
    {
        "PYOCO_NATS_URL": f"nats://127.0.0.1:{NATS_PORT}",
        "PYOCO_LOAD_DOTENV": "0",
        "PYOCO_HTTP_AUTH_MODE": "api_key",
        "PYOCO_AUTH_PEPPER": "contract-pepper",
    }
)
ADMIN_KEY, ADMIN_RECORD = auth.issue("contract", Role.ADMIN, SETTINGS.auth_pepper, time.time())


def _config() -> schemathesis.Config:
    """schemathesis.toml, plus the admin key for the spec's `ApiKeyAuth` scheme."""
    data = tomllib.loads(SCHEMATHESIS_TOML.read_text())
    data["auth"] = {"openapi": {"ApiKeyAuth": {"api_key": ADMIN_KEY}}}
    return schemathesis.Config.from_dict(data, base_dir=str(SCHEMATHESIS_TOML.parent))


app = create_app(SETTINGS, validate_responses=True)
schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=_config())


def _store_admin_key(url: str) -> None:
    asyncio.run(_store_key(url))


async def _store_key(url: str) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await ensure_resources(js, SETTINGS)
        kv = await js.key_value(SETTINGS.auth_kv_bucket)
        await kv.create(f"api_keys.{ADMIN_RECORD.key_id}", encode_api_key(ADMIN_RECORD))
    finally:
        await nc.close()


@pytest.fixture(scope="module", autouse=True)
def nats_for_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    with nats_on_port(tmp_path_factory.mktemp("nats"), NATS_PORT, _store_admin_key) as server:
        yield server


@schema.parametrize()
@EXAMPLES
def test_every_operation_conforms_with_a_key(case: schemathesis.Case) -> None:
    case.call_and_validate()


APIWorkflow = schema.as_state_machine()
APIWorkflow.TestCase.settings = STATEFUL
TestAPIWorkflowWithKey = APIWorkflow.TestCase
