"""Submitting and reading runs over the gateway's HTTP API (for tests with a real gateway)."""

from __future__ import annotations

import httpx


def submit(client: httpx.Client, workflow: bytes, **data: str) -> str:
    """POST /runs/yaml with `workflow` as the flow.yaml (flow `main` unless told); the run id."""
    response = client.post(
        "/runs/yaml",
        files={"workflow": ("flow.yaml", workflow)},
        data={"flow_name": "main", **data},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["run_id"])


def status(client: httpx.Client, run_id: str) -> dict[str, object]:
    """GET /runs/{run_id}?include=records: the run's snapshot."""
    body: dict[str, object] = client.get(f"/runs/{run_id}", params={"include": "records"}).json()
    return body
