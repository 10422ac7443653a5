"""API keys: --api-key and PYOCO_API_KEY against a gateway with PYOCO_HTTP_AUTH_MODE=api_key,
keys made by `pyoco-server-admin`, and the errors of a missing, wrong or too weak key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyoco_client import Client, ProblemError
from pyoco_server.domain.settings import Settings
from tests.support.cli import create_key, document, error_lines, invoke, ok
from tests.support.processes import Gateway, start_gateway


def test_api_key_flag_and_environment_variable(settings: Settings, auth_gateway: Gateway) -> None:
    key = create_key(settings, tenant="t", role="admin")
    accepted = document(
        ok("--server", auth_gateway.url, "--api-key", key, "submit", "--tag", "idle").stdout
    )
    from_env = ok(
        "get", accepted["run_id"], env={"PYOCO_SERVER_URL": auth_gateway.url, "PYOCO_API_KEY": key}
    )
    run = document(from_env.stdout)
    assert run["tenant_id"] == "t"
    watched = ok(
        "--server",
        auth_gateway.url,
        "--api-key",
        key,
        "watch",
        accepted["run_id"],
        "--max-events",
        "1",
    )
    assert document(watched.stdout)["snapshot"]["status"] == "PENDING"
    assert ok("--server", auth_gateway.url, "--api-key", key, "metrics").stdout.startswith("# HELP")


def test_a_missing_key_is_a_401_with_a_hint(auth_gateway: Gateway) -> None:
    result = invoke("--server", auth_gateway.url, "submit")
    assert result.exit_code == 1
    assert result.stdout == ""
    error, hint = error_lines(result.stderr)
    assert error.startswith("pyoco-client: error: HTTP 401 Unauthorized: ")
    assert "X-API-Key" in error
    assert hint == "  hint: pass an API key with --api-key or PYOCO_API_KEY"


def test_a_wrong_key_and_a_weak_role_are_403s(settings: Settings, auth_gateway: Gateway) -> None:
    wrong = invoke("--server", auth_gateway.url, "--api-key", "pyoco_nope.nope", "list")
    assert wrong.exit_code == 1
    error, hint = error_lines(wrong.stderr)
    assert error.startswith("pyoco-client: error: HTTP 403 Forbidden: ")
    assert "unknown, revoked or mistyped" in hint

    user_key = create_key(settings, tenant="t", role="user")
    assert ok("--server", auth_gateway.url, "--api-key", user_key, "list").stdout
    weak = invoke("--server", auth_gateway.url, "--api-key", user_key, "workers")
    assert weak.exit_code == 1
    error, hint = error_lines(weak.stderr)
    assert error.startswith("pyoco-client: error: HTTP 403 Forbidden: ")
    assert "need an admin key" in hint
    assert "--role admin" in hint


def test_a_custom_key_header(settings: Settings, tmp_path: Path) -> None:
    gateway = start_gateway(
        settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key", PYOCO_HTTP_API_KEY_HEADER="X-Team-Key"
    )
    try:
        key = create_key(settings)
        args = ("--server", gateway.url, "--api-key", key)
        assert ok(*args, "--api-key-header", "X-Team-Key", "list").exit_code == 0
        assert invoke(*args, "list").exit_code == 1  # sent in X-API-Key, which this gateway ignores
        with Client(gateway.url, api_key=key) as client, pytest.raises(ProblemError) as caught:
            client.list_page()
        assert caught.value.status == 401
    finally:
        gateway.process.stop()
