"""Gateway throughput: `POST /runs`, `POST /runs/yaml` (the seed flow.yaml, and one of 50 tasks)
and `GET /runs/{id}` requests/s with one and two processes, and the flow.yaml/JSON ratios, of
requests/s and of the gateway's CPU per request.

    uv run python -m bench.gateway [SECONDS]

The result also goes to bench/results/gateway.json.

Needs `wrk` (apt-get install wrk), a C load generator, so that the client does not eat the CPU
it measures. The gateway runs as `python -m pyoco_server.gateway --workers N` against its own
nats-server; no worker runs, so submitted jobs just queue. The configurations are measured in
alternation (1, 2, 1, 2) and each reported with both rounds, since this machine is shared; the
second round of each measures the submit kinds in the opposite order.

The gateway's CPU per submit (its process tree's, from /proc, over each wrk run) is reported
next to requests/s: on a shared 2-core machine, where wrk, nats-server and the gateway compete
and other tenants come and go, its ratios move far less between rounds than those of
requests/s.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from bench._results import write_result
from bench._stack import stack, tree_cpu_seconds
from bench.submits import CHAIN, JSON, SEED

CONNECTIONS = 32


def wrk(url: str, seconds: int, script: str | None = None) -> dict[str, float]:
    """Requests/s and latency percentiles of `wrk` against `url`."""
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url]
    if script is not None:
        path = Path(tempfile.mkstemp(suffix=".lua")[1])
        path.write_text(script)
        args += ["-s", str(path)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    result = {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    result["requests"] = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    for percentile in ("50", "90", "99"):
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)$", out, re.MULTILINE)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            result[f"p{percentile}_ms"] = value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return result


SUBMITS = {"POST /runs": JSON, "POST /runs/yaml (seed)": SEED, "POST /runs/yaml (50 tasks)": CHAIN}


def measure(gateway_workers: int, seconds: int, reverse: bool) -> dict[str, dict[str, float]]:
    """One round; with `reverse` the submit kinds go in the opposite order.

    Every submit leaves a queued job and a stored run behind, so a kind measured later meets
    a fuller stream, bucket and run index: rounds alternate the order, so that no kind is
    always measured first.
    """
    with stack(worker=False, gateway_workers=gateway_workers) as deployment:
        url = deployment.gateway_url
        run_id = httpx.post(f"{url}/runs", json={"flow_name": "trivial"}).json()["run_id"]
        wrk(f"{url}/health", 2)  # warm up every process
        order = list(SUBMITS.items())
        results = {}
        for name, submit in reversed(order) if reverse else order:
            cpu = tree_cpu_seconds(deployment.gateway.pid)
            results[name] = wrk(f"{url}{submit.path}", seconds, submit.wrk_script())
            cpu = tree_cpu_seconds(deployment.gateway.pid) - cpu
            results[name]["gateway_cpu_ms"] = round(cpu * 1000 / results[name]["requests"], 3)
        results["GET /runs/{id}"] = wrk(f"{url}/runs/{run_id}", seconds)
        return {name: results[name] for name in [*SUBMITS, "GET /runs/{id}"]}


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    rounds: dict[int, list[dict[str, dict[str, float]]]] = {1: [], 2: []}
    for workers, reverse in ((1, False), (2, False), (1, True), (2, True)):
        rounds[workers].append(measure(workers, seconds, reverse))
    report: dict[str, object] = {}
    for workers, results in rounds.items():
        report[f"{workers} gateway process(es)"] = {
            operation: [round(result[operation]["requests_per_s"]) for result in results]
            for operation in results[0]
        }
        report[f"{workers} gateway process(es) latency, last round"] = results[-1]
        report[f"{workers} gateway process(es) flow.yaml/JSON requests/s"] = {
            name: [
                round(result[name]["requests_per_s"] / result["POST /runs"]["requests_per_s"], 3)
                for result in results
            ]
            for name in ("POST /runs/yaml (seed)", "POST /runs/yaml (50 tasks)")
        }
        report[f"{workers} gateway process(es) gateway CPU ms per submit"] = {
            name: [result[name]["gateway_cpu_ms"] for result in results] for name in SUBMITS
        }
        report[f"{workers} gateway process(es) flow.yaml/JSON gateway CPU per submit"] = {
            name: [
                round(result[name]["gateway_cpu_ms"] / result["POST /runs"]["gateway_cpu_ms"], 3)
                for result in results
            ]
            for name in ("POST /runs/yaml (seed)", "POST /runs/yaml (50 tasks)")
        }
    print(json.dumps(report, indent=2))
    write_result("gateway", report)


if __name__ == "__main__":
    main()
