"""API keys end to end: a gateway with PYOCO_HTTP_AUTH_MODE=api_key, keys from the admin CLI.

Every test starts a real nats-server and a real gateway process; keys are created, listed and
revoked with `pyoco-server-admin` as a subprocess, as an operator would.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyoco_server.contracts import load_openapi
from pyoco_server.domain.settings import Settings
from tests.support.cli import Admin, run_admin
from tests.support.flows import FLOW_YAML
from tests.support.processes import Gateway, start_gateway
from tests.support.waiting import wait_until

PROBLEM = "application/problem+json"
ADMIN_CLI = str(Path(sys.executable).parent / "pyoco-server-admin")
PATH_VALUES = {
    "run_id": "0b6f4a1e-run",
    "worker_id": "w-1",
    "dead_letter_id": "1",
    "wheel_name": "my_ext-0.1.0-py3-none-any.whl",
}
BOGUS_KEYS = (
    "pyoco_0123456789abcdef01234567.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # unknown
    "not-a-key",
    "pyoco_.x",
)


def operations() -> list[tuple[str, str, str]]:
    """(method, path with its parameters filled in, operationId) of every operation."""
    found = []
    for template, item in load_openapi()["paths"].items():
        path = re.sub(r"\{(\w+)\}", lambda match: PATH_VALUES[match[1]], template)
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found.append((method.upper(), path, operation["operationId"]))
    return found


def create_key(admin: Admin, tenant: str = "acme", role: str = "user", **env: str) -> str:
    done = admin("api-key", "create", "--tenant", tenant, "--role", role, **env)
    assert done.returncode == 0, done.stderr
    key: str = json.loads(done.stdout)["api_key"]
    return key


@pytest.fixture
def auth_gateway(settings: Settings, tmp_path: Path) -> Iterator[Gateway]:
    gateway = start_gateway(settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key")
    yield gateway
    gateway.process.stop()


@pytest.fixture
def client(auth_gateway: Gateway) -> Iterator[httpx.Client]:
    with auth_gateway.client() as client:
        yield client


def keyed(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def assert_problem(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, (response.request.url, response.text)
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert (body["status"], body["reason"]) == (status, reason)
    return body


def call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request; an event stream is closed as soon as its status is known."""
    with client.stream(method, path, **kwargs) as response:
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            response.read()
        return response


def submit(client: httpx.Client, key: str) -> str:
    response = client.post("/runs", json={"flow_name": "main"}, headers=keyed(key))
    assert response.status_code == 201, response.text
    run_id: str = response.json()["run_id"]
    return run_id


# --- without a valid key ---------------------------------------------------------------------


def test_every_operation_but_health_needs_a_key(client: httpx.Client) -> None:
    walked = operations()
    assert len(walked) >= 12
    for method, path, operation_id in walked:
        response = call(client, method, path)
        if operation_id == "get_health":
            assert response.status_code == 200
            continue
        body = assert_problem(response, 401, "api_key_required")
        assert "X-API-Key" in body["detail"]
        assert "pyoco-server-admin api-key create" in body["detail"]


def test_a_bogus_key_is_403_on_every_operation(client: httpx.Client) -> None:
    for method, path, operation_id in operations():
        for bogus in BOGUS_KEYS:
            response = call(client, method, path, headers=keyed(bogus))
            if operation_id == "get_health":
                assert response.status_code == 200
                continue
            body = assert_problem(response, 403, "api_key_invalid")
            assert body["detail"] == "API key not valid or revoked"


def test_unknown_paths_and_methods_still_answer_404_and_405(client: httpx.Client) -> None:
    assert client.get("/no/such/path").status_code == 404
    assert client.delete("/runs").status_code == 405


def test_the_served_spec_says_a_key_is_needed(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["security"] == [{"ApiKeyAuth": []}]
    assert spec["paths"]["/health"]["get"]["security"] == []


# --- roles -----------------------------------------------------------------------------------


def test_a_user_key_works_with_runs_but_not_admin_operations(
    client: httpx.Client, admin: Admin
) -> None:
    key = create_key(admin, role="user")
    run_id = submit(client, key)
    headers = keyed(key)
    upload = client.post(
        "/runs/yaml",
        data={"flow_name": "main"},
        files={"workflow": ("flow.yaml", FLOW_YAML)},
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    assert client.get(f"/runs/{run_id}", headers=headers).status_code == 200
    assert client.get(f"/runs/{run_id}/tasks", headers=headers).status_code == 200
    assert client.get("/runs", headers=headers).status_code == 200
    assert client.post(f"/runs/{run_id}/cancel", headers=headers).status_code == 200
    watch = call(client, "GET", f"/runs/{run_id}/watch?timeout_sec=1", headers=headers)
    assert watch.status_code == 200
    assert client.get("/runs/no-such-run", headers=headers).status_code == 404
    for method, path, operation_id in operations():
        if operation_id in ADMIN_ONLY:
            body = assert_problem(
                call(client, method, path, headers=headers), 403, "forbidden_role"
            )
            assert body["detail"] == "this operation needs an admin key"


ADMIN_ONLY = frozenset(
    {
        "get_metrics",
        "get_metrics_history",
        "list_workers",
        "update_worker",
        "list_dead_letters",
        "redrive_dead_letter",
        "upload_wheel",
        "delete_wheel",
        "list_wheel_history",
    }
)


def test_the_admin_only_operations_are_the_marked_ones() -> None:
    marked = {
        operation["operationId"]
        for item in load_openapi()["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and operation.get("x-pyoco-role") == "admin"
    }
    assert marked == ADMIN_ONLY


def test_an_admin_key_gets_through(client: httpx.Client, admin: Admin) -> None:
    key = create_key(admin, role="admin")
    headers = keyed(key)
    assert client.get("/workers", headers=headers).status_code == 200
    assert client.get("/dlq", headers=headers).status_code == 200
    assert client.get("/metrics", headers=headers).status_code == 200
    patched = client.patch("/workers/w-1", json={"hidden": True}, headers=headers)
    assert_problem(patched, 404, "worker_not_found")
    assert_problem(client.post("/dlq/1/redrive", headers=headers), 404, "dead_letter_not_found")
    run_id = submit(client, key)
    assert client.get(f"/runs/{run_id}", headers=headers).status_code == 200


# --- tenants ---------------------------------------------------------------------------------


def test_runs_are_stamped_with_the_tenant_and_key(client: httpx.Client, admin: Admin) -> None:
    key = create_key(admin, tenant="acme")
    run_id = submit(client, key)
    snapshot = client.get(f"/runs/{run_id}", headers=keyed(key)).json()
    assert snapshot["tenant_id"] == "acme"
    assert snapshot["api_key_id"] == key.removeprefix("pyoco_").split(".")[0]
    cancelled = client.post(f"/runs/{run_id}/cancel", headers=keyed(key)).json()
    assert cancelled["cancel_requested_by"] == f"api_key:{snapshot['api_key_id']}"


def test_another_tenants_run_is_404(client: httpx.Client, admin: Admin) -> None:
    mine, theirs = create_key(admin, tenant="acme"), create_key(admin, tenant="globex")
    run_id = submit(client, mine)
    headers = keyed(theirs)
    assert_problem(client.get(f"/runs/{run_id}", headers=headers), 404, "run_not_found")
    assert_problem(client.get(f"/runs/{run_id}/tasks", headers=headers), 404, "run_not_found")
    assert_problem(client.post(f"/runs/{run_id}/cancel", headers=headers), 404, "run_not_found")
    watch = call(client, "GET", f"/runs/{run_id}/watch?timeout_sec=1", headers=headers)
    assert watch.status_code == 404
    listed = client.get("/runs", headers=headers).json()
    assert run_id not in {item["run_id"] for item in listed["items"]}
    assert client.get(f"/runs/{run_id}", headers=keyed(mine)).json()["status"] == "PENDING"
    own = client.get("/runs", headers=keyed(mine)).json()
    assert run_id in {item["run_id"] for item in own["items"]}


# --- revocation ------------------------------------------------------------------------------


def test_a_revoked_key_is_refused_within_a_second(client: httpx.Client, admin: Admin) -> None:
    key = create_key(admin)
    headers = keyed(key)
    assert client.get("/runs/some-run", headers=headers).status_code == 404
    key_id = key.removeprefix("pyoco_").split(".")[0]
    done = admin("api-key", "revoke", "--key-id", key_id)
    assert done.returncode == 0, done.stderr
    revoked_at = time.monotonic()
    wait_until(
        lambda: client.get("/runs/some-run", headers=headers).status_code == 403,
        timeout=1.0,
        what="the gateway to refuse the revoked key",
    )
    assert time.monotonic() - revoked_at < 1.0
    assert_problem(client.get("/runs/some-run", headers=headers), 403, "api_key_invalid")


def test_a_key_created_while_the_gateway_runs_works_at_once(
    client: httpx.Client, admin: Admin
) -> None:
    key = create_key(admin)
    wait_until(
        lambda: client.get("/runs/x", headers=keyed(key)).status_code == 404,
        timeout=1.0,
        what="the gateway to know the new key",
    )


def test_header_name_and_pepper_follow_the_settings(settings: Settings, tmp_path: Path) -> None:
    env = {"PYOCO_HTTP_API_KEY_HEADER": "X-Token", "PYOCO_AUTH_PEPPER": "pepper-1"}
    gateway = start_gateway(settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key", **env)
    try:
        good = json.loads(run_admin(settings, "api-key", "create", "--tenant", "t", **env).stdout)
        other_pepper = {**env, "PYOCO_AUTH_PEPPER": "pepper-2"}
        bad = json.loads(
            run_admin(settings, "api-key", "create", "--tenant", "t", **other_pepper).stdout
        )
        with gateway.client() as client:
            body = assert_problem(client.get("/runs/x"), 401, "api_key_required")
            assert "X-Token" in body["detail"]
            assert_problem(
                client.get("/runs/x", headers=keyed(good["api_key"])), 401, "api_key_required"
            )
            wait_until(
                lambda: (
                    client.get("/runs/x", headers={"X-Token": good["api_key"]}).status_code == 404
                ),
                timeout=2.0,
            )
            refused = client.get("/runs/x", headers={"X-Token": bad["api_key"]})
            assert_problem(refused, 403, "api_key_invalid")
    finally:
        gateway.process.stop()
