"""`Client` and `AsyncClient` have the CLI's options: the run filters, the submits' run options,
rerun and run id prefixes (real gateway, NATS and worker)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pyoco_client import AsyncClient, Client, ProblemError
from pyoco_server.domain.settings import Settings
from tests.support.cli import create_key, document, ok
from tests.support.flows import FLOW_YAML
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import wait_until

RETRY = {"max_attempts": 2, "backoff_sec": 0.25}


def test_submits_take_labels_time_limit_and_retry(gateway: Gateway) -> None:
    with Client(gateway.url) as client:
        by_name = client.submit(
            "main", tag="idle", tags=["a", "b"], timeout_sec=30, retry=RETRY
        )  # fmt: skip
        from_yaml = client.submit_yaml(
            FLOW_YAML, "main", tag="idle", tags=["b"], timeout_sec=45.5, retry=RETRY
        )
        first, second = client.get(by_name["run_id"]), client.get(from_yaml["run_id"])
    assert (first["tags"], first["timeout_sec"]) == (["a", "b"], 30)
    assert (second["tags"], second["timeout_sec"]) == (["b"], 45.5)
    for run in (first, second):
        assert {key: run["retry"][key] for key in RETRY} == RETRY


def test_list_filters_by_label_and_run_id_prefix(gateway: Gateway) -> None:
    with Client(gateway.url) as client:
        labelled = client.submit("main", tag="idle", tags=["nightly"])["run_id"]
        other = client.submit("main", tag="idle", tags=["weekly"])["run_id"]
        wait_until(lambda: len(client.list_page()["items"]) == 2, what="both runs listed")
        assert [run["run_id"] for run in client.list(label="nightly")] == [labelled]
        page = client.list_page(label="weekly", limit=5)
        assert [run["run_id"] for run in page["items"]] == [other]
        assert [run["run_id"] for run in client.list(run_id_prefix=other[:9])] == [other]
        assert list(client.list(label="nightly", status="COMPLETED")) == []
        assert client.resolve_run_id(other[:9]) == other


def test_async_client_has_the_same_options(gateway: Gateway, start_worker: WorkerFactory) -> None:
    start_worker()

    async def scenario() -> dict[str, Any]:
        async with AsyncClient(gateway.url) as client:
            first = await client.submit_yaml(FLOW_YAML, "main", tags=["x"], retry=RETRY)
            await client.wait(first["run_id"], timeout=30)
            original = await client.resolve_run_id(first["run_id"][:10])
            again = await client.rerun(original, params={"x": 4})
            rerun = await client.wait(again["run_id"], timeout=30, records=True)
            labelled = [run["run_id"] async for run in client.list(label="x")]
            page = await client.list_page(run_id_prefix=first["run_id"], limit=1)
            return {"first": first, "again": again, "rerun": rerun, "labelled": labelled, **page}

    seen = asyncio.run(scenario())
    assert seen["again"]["rerun_of"] == seen["first"]["run_id"]
    assert seen["rerun"]["task_records"]["to_text"]["output"] == "5"
    assert set(seen["labelled"]) == {seen["first"]["run_id"], seen["again"]["run_id"]}
    assert [item["run_id"] for item in seen["items"]] == [seen["first"]["run_id"]]


def test_admin_keys_filter_by_tenant(settings: Settings, auth_gateway: Gateway) -> None:
    admin = create_key(settings, tenant="ops", role="admin")
    runs = {}
    for tenant in ("acme", "globex"):
        with Client(auth_gateway.url, create_key(settings, tenant=tenant, role="user")) as client:
            runs[tenant] = client.submit("main", tag="idle")["run_id"]
    with Client(auth_gateway.url, admin) as client:
        wait_until(lambda: len(client.list_page()["items"]) == 2, what="every tenant's runs")
        assert [run["run_id"] for run in client.list(tenant="acme")] == [runs["acme"]]
    listed = ok(
        "list", "--tenant", "globex", "--server", auth_gateway.url, "--api-key", admin
    )  # fmt: skip
    assert [item["run_id"] for item in document(listed.stdout)["items"]] == [runs["globex"]]

    user_key = create_key(settings, tenant="acme", role="user")
    with Client(auth_gateway.url, user_key) as user, pytest.raises(ProblemError) as caught:
        user.list_page(tenant="globex")
    assert (caught.value.status, caught.value.reason) == (403, "forbidden_tenant")
