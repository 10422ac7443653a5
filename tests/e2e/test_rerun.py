"""POST /runs/{run_id}/rerun against a real gateway, NATS and worker.

The new run repeats the original (flow, params with overrides merged, labels, code versions),
names it in `rerun_of`, honours Idempotency-Key, and a flow.yaml that is no longer stored is a
409 that says what to do.
"""

from __future__ import annotations

import asyncio

import httpx
import nats

from pyoco_server.domain.settings import Settings
from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import submit
from tests.support.waiting import wait_terminal
from tests.support.wheels import upload, wheel_bytes

RESOLVER = ("--flow-resolver", "tests.support.flows:resolve")
WHEEL = "my_ext-%s-py3-none-any.whl"


def rerun(client: httpx.Client, run_id: str, **body: object) -> httpx.Response:
    return client.post(f"/runs/{run_id}/rerun", json=body)


def output(snapshot: dict[str, object], task: str) -> object:
    return snapshot["task_records"][task]["output"]  # type: ignore[index]


def test_a_yaml_run_runs_again_with_its_file_labels_and_merged_params(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker()
    with gateway.client(timeout=30) as client:
        run_id = submit(
            client, flow_yaml("add_one", "to_text"), params='{"x": 1}', tags="nightly, team-a"
        )
        original = wait_terminal(client, run_id)
        response = rerun(client, run_id, params={"x": 41})
        assert response.status_code == 201, response.text
        accepted = response.json()
        assert (accepted["rerun_of"], accepted["status"]) == (run_id, "PENDING")
        assert accepted["run_id"] != run_id
        assert response.headers["location"] == f"/runs/{accepted['run_id']}"
        again = wait_terminal(client, accepted["run_id"])
        labelled = client.get("/runs", params={"label": "team-a"}).json()["items"]
    assert (output(original, "to_text"), output(again, "to_text")) == ("2", "42")
    assert again["rerun_of"] == run_id
    assert again["params"] == {"x": 41}
    assert again["tags"] == ["nightly", "team-a"] == original["tags"]
    assert again["workflow_yaml_sha256"] == original["workflow_yaml_sha256"]
    assert [item["run_id"] for item in labelled] == [accepted["run_id"], run_id]
    assert labelled[0]["rerun_of"] == run_id


def test_a_json_run_runs_again_on_another_tag_with_an_idempotency_key(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker(tags=("default", "other"), args=RESOLVER)
    with gateway.client(timeout=30) as client:
        first = client.post("/runs", json={"flow_name": "double", "params": {"x": 2}}).json()
        wait_terminal(client, first["run_id"])
        key = {"Idempotency-Key": "again-1"}
        body = {"params": {"x": 7}, "tag": "other", "timeout_sec": 120}
        response = client.post(f"/runs/{first['run_id']}/rerun", json=body, headers=key)
        replay = client.post(f"/runs/{first['run_id']}/rerun", json=body, headers=key)
        reused = client.post(f"/runs/{first['run_id']}/rerun", json={}, headers=key)
        again = wait_terminal(client, response.json()["run_id"])
        bare = client.post(f"/runs/{first['run_id']}/rerun")  # no body at all
        assert bare.status_code == 201, bare.text
        endless = client.post(f"/runs/{first['run_id']}/rerun", json={"timeout_sec": 0})
    assert response.status_code == 201
    assert (replay.status_code, replay.headers["idempotent-replayed"]) == (201, "true")
    assert replay.json()["run_id"] == response.json()["run_id"]
    assert replay.json()["rerun_of"] == first["run_id"]
    assert reused.status_code == 409
    assert reused.json()["reason"] == "idempotency_key_reused"
    assert (again["tag"], again["status"], output(again, "double")) == ("other", "COMPLETED", 14)
    assert again["timeout_sec"] == 120
    assert bare.json()["tag"] == "default"
    assert endless.status_code == 400, endless.text
    assert endless.headers["content-type"] == "application/problem+json"
    assert "timeout_sec" in endless.json()["detail"]


def test_a_rerun_keeps_the_code_versions_the_run_had(gateway: Gateway) -> None:
    with gateway.client(timeout=30) as client:
        assert upload(client, wheel_bytes("my_ext", "0.1.0"), WHEEL % "0.1.0").status_code == 201
        run_id = submit(client, flow_yaml("add_one", "to_text"))
        assert upload(client, wheel_bytes("my_ext", "0.2.0"), WHEEL % "0.2.0").status_code == 201
        original = client.get(f"/runs/{run_id}").json()
        again = rerun(client, run_id).json()
        fresh = submit(client, flow_yaml("add_one", "to_text"))
        pinned = client.get(f"/runs/{again['run_id']}").json()
        newest = client.get(f"/runs/{fresh}").json()
        assert client.delete(f"/wheels/{WHEEL % '0.1.0'}").status_code in (200, 204)
        gone = rerun(client, run_id)
    assert [code["version"] for code in original["code"]] == ["0.1.0"]
    assert [code["version"] for code in pinned["code"]] == ["0.1.0"]
    assert [code["version"] for code in newest["code"]] == ["0.2.0"]
    assert gone.status_code == 422
    assert gone.json()["reason"] == "unknown_requirement"
    assert "run again with the code it ran with" in gone.json()["detail"]


async def _purge(settings: Settings, sha256: str) -> None:
    nc = await nats.connect(settings.nats_url)
    try:
        kv = await nc.jetstream().key_value(settings.workflows_kv_bucket)
        assert (await kv.get(sha256)).value is not None  # it was stored at submit
        await kv.purge(sha256)
    finally:
        await nc.close()


def test_a_rerun_whose_flow_yaml_is_gone_is_409(gateway: Gateway, settings: Settings) -> None:
    with gateway.client(timeout=30) as client:
        run_id = submit(client, flow_yaml("add_one", "to_text"))
        sha256 = client.get(f"/runs/{run_id}").json()["workflow_yaml_sha256"]
        asyncio.run(_purge(settings, sha256))
        refused = rerun(client, run_id)
        missing = rerun(client, "no-such-run")
        bad = client.post(f"/runs/{run_id}/rerun", json={"params": {"x": 1}, "flows": "x"})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["reason"] == "workflow_not_stored"
    assert "POST /runs/yaml" in refused.json()["detail"]
    assert (missing.status_code, missing.json()["reason"]) == (404, "run_not_found")
    assert bad.status_code == 400
