"""A burst of concurrent submissions: every accepted run completes (the original hung here)."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.flows import FLOW_YAML
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import TERMINAL, wait_until

RUNS = 200
CONCURRENCY = 32


async def _submit_all(url: str) -> list[str]:
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:

        async def submit(i: int) -> str:
            async with limit:
                if i % 2:
                    response = await client.post(
                        "/runs/yaml",
                        files={"workflow": ("flow.yaml", FLOW_YAML)},
                        data={"flow_name": "main", "params": f'{{"x": {i}}}'},
                    )
                else:
                    response = await client.post(
                        "/runs", json={"flow_name": "double", "params": {"x": i}}
                    )
                assert response.status_code == 201, response.text
                return str(response.json()["run_id"])

        return await asyncio.gather(*(submit(i) for i in range(RUNS)))


def test_burst_of_200_runs_at_concurrency_32_all_complete(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker(args=["--flow-resolver", "tests.support.flows:resolve"])
    run_ids = asyncio.run(_submit_all(gateway.url))
    assert len(set(run_ids)) == RUNS
    pending = set(run_ids)
    results: dict[str, dict[str, object]] = {}
    with gateway.client() as client:

        def all_done() -> bool:
            for run_id in list(pending):
                body = client.get(f"/runs/{run_id}", params={"include": "records"}).json()
                if body["status"] in TERMINAL:
                    results[run_id] = body
                    pending.discard(run_id)
            return not pending

        wait_until(all_done, timeout=120, what=f"{RUNS} runs to end")
    assert {body["status"] for body in results.values()} == {"COMPLETED"}
    for body in results.values():
        x = body["params"]["x"]  # type: ignore[index]
        records = body["task_records"]
        if body["flow_name"] == "double":
            assert records["double"]["output"] == 2 * x  # type: ignore[index]
        else:
            assert records["to_text"]["output"] == str(x + 1)  # type: ignore[index,operator]
