"""NATS outages: the gateway answers 503 with Retry-After, stores nothing, recovers by itself."""

from __future__ import annotations

from urllib.parse import urlsplit

from pyoco_server.local.natsserver import NatsServer
from tests.support.flows import FLOW_YAML
from tests.support.nats import bucket_keys
from tests.support.processes import Gateway
from tests.support.waiting import wait_until


def test_nats_down_answers_503_and_leaves_no_orphan(
    gateway: Gateway, nats_server: NatsServer
) -> None:
    with gateway.client() as client:
        before = client.post("/runs", json={"flow_name": "main"})
        assert before.status_code == 201
        nats_server.stop()

        refused = client.post("/runs", json={"flow_name": "main"})
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert "not reachable" in refused.json()["detail"]
        yaml_refused = client.post(
            "/runs/yaml", files={"workflow": ("flow.yaml", FLOW_YAML)}, data={"flow_name": "main"}
        )
        assert yaml_refused.status_code == 503
        assert client.get(f"/runs/{before.json()['run_id']}").status_code == 503
        assert client.get("/health").status_code == 200

        restarted = NatsServer(nats_server.store_dir, port=urlsplit(nats_server.url).port or -1)
        restarted.start()
        try:
            after = wait_until(
                lambda: (
                    (r := client.post("/runs", json={"flow_name": "main"})).status_code == 201 and r
                ),
                timeout=20,
                what="the gateway to recover",
            )
            assert sorted(bucket_keys(restarted.url)) == sorted(
                [before.json()["run_id"], after.json()["run_id"]]  # type: ignore[union-attr]
            )
        finally:
            restarted.stop()
