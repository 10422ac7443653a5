"""Tenants through HTTP: admin keys see every tenant, user keys their own (403 for another's
`tenant=`), and runs from before API keys belong to PYOCO_DEFAULT_TENANT.

A real gateway on a real NATS; keys made with `pyoco-server-admin` as an operator would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyoco_server.domain.settings import Settings
from tests.support.cli import create_key
from tests.support.flows import FLOW_YAML
from tests.support.nats import write_snapshot
from tests.support.processes import Gateway, start_gateway
from tests.support.samples import PENDING
from tests.support.waiting import wait_until

DEFAULT_TENANT = "from-before"


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "PYOCO_DEFAULT_TENANT": DEFAULT_TENANT}


@pytest.fixture
def keyed_gateway(settings: Settings, tmp_path: Path) -> Iterator[Gateway]:
    gateway = start_gateway(settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key")
    yield gateway
    gateway.process.stop()


def as_key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def listed(client: httpx.Client, key: str, **params: str) -> list[str]:
    response = client.get("/runs", params=params, headers=as_key(key))
    assert response.status_code == 200, response.text
    return [item["run_id"] for item in response.json()["items"]]


def submit_as(client: httpx.Client, key: str) -> str:
    response = client.post("/runs", json={"flow_name": "main"}, headers=as_key(key))
    assert response.status_code == 201, response.text
    return str(response.json()["run_id"])


def test_runs_from_before_api_keys_belong_to_the_default_tenant(
    settings: Settings, tmp_path: Path
) -> None:
    open_gateway = start_gateway(settings, tmp_path)
    with open_gateway.client() as client:
        before = client.post("/runs", json={"flow_name": "main"}).json()["run_id"]
        assert client.get(f"/runs/{before}").json()["tenant_id"] == DEFAULT_TENANT
    open_gateway.process.stop()
    legacy = dataclasses.replace(PENDING, run_id="stored-by-an-older-gateway", tenant_id=None)
    write_snapshot(settings, legacy)
    gateway = start_gateway(settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key")
    theirs, other = (
        create_key(settings, DEFAULT_TENANT, "user"),
        create_key(settings, "acme", "user"),
    )
    try:
        with gateway.client() as client:
            wait_until(lambda: client.get("/runs", headers=as_key(theirs)).status_code == 200)
            assert sorted(listed(client, theirs)) == sorted([before, legacy.run_id])
            for run_id in (before, legacy.run_id):
                assert client.get(f"/runs/{run_id}", headers=as_key(theirs)).status_code == 200
                assert client.get(f"/runs/{run_id}", headers=as_key(other)).status_code == 404
            assert listed(client, other) == []
    finally:
        gateway.process.stop()


def test_admin_keys_see_and_filter_every_tenant(keyed_gateway: Gateway, settings: Settings) -> None:
    acme, globex = create_key(settings, "acme", "user"), create_key(settings, "globex", "user")
    admin = create_key(settings, "ops", "admin")
    with keyed_gateway.client(timeout=30) as client:
        mine, theirs = submit_as(client, acme), submit_as(client, globex)
        # The list follows the runs bucket's watch: a run is listed moments after its 201.
        wait_until(lambda: listed(client, admin) == [theirs, mine], what="both runs listed")
        assert listed(client, admin, tenant="acme") == [mine]
        assert listed(client, admin, tenant="nobody") == []
        headers = as_key(admin)
        assert client.get(f"/runs/{theirs}", headers=headers).json()["tenant_id"] == "globex"
        assert client.get(f"/runs/{theirs}/tasks", headers=headers).status_code == 200
        watched = client.get(f"/runs/{theirs}/watch", params={"timeout_sec": 1}, headers=headers)
        assert watched.status_code == 200
        again = client.post(f"/runs/{theirs}/rerun", headers=headers)
        assert again.status_code == 201, again.text
        rerun = client.get(f"/runs/{again.json()['run_id']}", headers=as_key(globex)).json()
        assert (rerun["tenant_id"], rerun["rerun_of"]) == ("globex", theirs)
        cancelled = client.post(f"/runs/{theirs}/cancel", headers=headers)
        assert cancelled.json()["status"] == "CANCELLED"


def test_a_user_key_names_only_its_own_tenant(keyed_gateway: Gateway, settings: Settings) -> None:
    acme, globex = create_key(settings, "acme", "user"), create_key(settings, "globex", "user")
    with keyed_gateway.client(timeout=30) as client:
        mine, theirs = submit_as(client, acme), submit_as(client, globex)
        assert listed(client, acme, tenant="acme") == [mine]
        refused = client.get("/runs", params={"tenant": "globex"}, headers=as_key(acme))
        hidden = client.post(f"/runs/{theirs}/rerun", headers=as_key(acme))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["reason"] == "forbidden_tenant"
    assert "tenant 'acme'" in refused.json()["detail"]
    assert (hidden.status_code, hidden.json()["reason"]) == (404, "run_not_found")


def test_list_filters_by_label_and_run_id_prefix(gateway: Gateway) -> None:
    with gateway.client(timeout=30) as client:
        labelled = [
            client.post("/runs", json={"flow_name": "main", "tags": tags}).json()["run_id"]
            for tags in (["nightly"], ["nightly", "team-a"], ["team-a"], [])
        ]
        wait_until(lambda: len(client.get("/runs").json()["items"]) == 4)
        nightly = client.get("/runs", params={"label": "nightly"}).json()["items"]
        team = client.get("/runs", params={"label": "team-a", "status": "PENDING"}).json()
        prefix = labelled[2][:8]
        by_prefix = client.get("/runs", params={"run_id_prefix": prefix}).json()["items"]
        by_tag_label = client.get("/runs", params={"label": "default"}).json()["items"]
        bad = client.get("/runs", params={"run_id_prefix": "not a prefix"})
        too_long = client.post(
            "/runs/yaml",
            files={"workflow": ("flow.yaml", FLOW_YAML)},
            data={"flow_name": "main", "tags": "ok, " + "x" * 129},
        )
    assert [item["run_id"] for item in nightly] == [labelled[1], labelled[0]]
    assert [item["run_id"] for item in team["items"]] == [labelled[2], labelled[1]]
    assert [item["run_id"] for item in by_prefix if item["run_id"].startswith(prefix)] == [
        labelled[2]
    ]
    assert all(item["run_id"].startswith(prefix) for item in by_prefix)
    assert [item["run_id"] for item in by_tag_label] == [labelled[3]]  # labels default to the tag
    assert bad.status_code == 400
    assert (too_long.status_code, too_long.json()["reason"]) == (422, "invalid_tags")
