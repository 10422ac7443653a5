"""Runs whose task leaves a side effect per execution, for the fault tests.

Each run's task (`tests.support.tasks:effect`) appends a line to `<effects>/<mark>` when it
finishes, so a test counts how many times each run's task really ran: once, or more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from tests.support.waiting import TERMINAL, wait_until

EFFECT_FLOW = b"""\
version: 1
flow:
  graph: effect
  defaults: {effects: "", mark: "", seconds: 0}
tasks:
  effect: {callable: "tests.support.tasks:effect"}
"""


def effect_params(effects: Path, mark: str, seconds: float = 0.0) -> str:
    """The params of a run that leaves its effect as `mark`, after `seconds`."""
    return json.dumps({"effects": str(effects), "mark": mark, "seconds": seconds})


def submit_effect(
    client: httpx.Client,
    effects: Path,
    mark: str,
    seconds: float = 0.0,
    *,
    key: str | None = None,
    tag: str | None = None,
) -> httpx.Response:
    """POST /runs/yaml of the effect flow (the response, whatever it is)."""
    data = {"flow_name": "main", "params": effect_params(effects, mark, seconds)}
    if tag is not None:
        data["tag"] = tag
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(
        "/runs/yaml", files={"workflow": ("flow.yaml", EFFECT_FLOW)}, data=data, headers=headers
    )


def effect_counts(effects: Path) -> dict[str, int]:
    """How many times the task of each mark ran."""
    return {path.name: len(path.read_text().splitlines()) for path in effects.iterdir()}


def snapshots(client: httpx.Client, run_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """GET /runs/{id} of each run."""
    found = {}
    for run_id in run_ids:
        response = client.get(f"/runs/{run_id}")
        response.raise_for_status()
        found[run_id] = response.json()
    return found


def wait_all_ended(
    client: httpx.Client, run_ids: Iterable[str], timeout: float = 120.0
) -> dict[str, dict[str, Any]]:
    """Wait until every run is terminal; their snapshots."""
    pending = set(run_ids)
    ended: dict[str, dict[str, Any]] = {}

    def all_ended() -> bool:
        for run_id in list(pending):
            try:
                response = client.get(f"/runs/{run_id}")
            except httpx.HTTPError:
                return False
            if response.status_code == 200 and response.json()["status"] in TERMINAL:
                ended[run_id] = response.json()
                pending.discard(run_id)
        return not pending

    wait_until(all_ended, timeout=timeout, what=f"{len(pending)} runs to end")
    return ended


def all_runs(client: httpx.Client) -> list[dict[str, Any]]:
    """Every run the gateway lists (all pages)."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        # 503 while the gateway's index is still loading: ask again until it answers.
        response = wait_until(
            lambda params=params: (
                (r := client.get("/runs", params=params)).status_code != 503 and r
            ),
            timeout=30,
            what="a page of runs",
        )
        assert isinstance(response, httpx.Response)
        response.raise_for_status()
        page = response.json()
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found
