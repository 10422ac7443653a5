"""Gateway throughput: `POST /runs`, `POST /runs/yaml` (the seed flow.yaml, and one of 50 tasks)
and `GET /runs/{id}` requests/s with one and two processes, and the flow.yaml/JSON ratios, of
requests/s and of the gateway's CPU per request.

    uv run python -m bench.gateway [CYCLES] [SLICE_SECONDS]

The result also goes to bench/results/gateway.json.

Needs `wrk` (apt-get install wrk), a C load generator, so that the client does not eat the CPU
it measures. The gateway runs as `python -m pyoco_server.gateway --workers N` against its own
nats-server; no worker runs, so submitted jobs just queue.

This machine is shared: its speed drifts over seconds as other tenants come and go, so kinds
measured one after the other for several seconds each compare badly (ratios from 0.46 to 1.08
between rounds). Here the submit kinds alternate in short wrk runs (slices, 2 s unless told), a
cycle being one slice of each kind, in turn first, second and last from one cycle to the next;
each kind's requests/s is the median of its slices, and each ratio the median of the cycles'
ratios, so that a slow moment skews one cycle, not the result. Every cycle's ratios are in the
result too: on this machine one run's cycles spread by up to ±0.2 around their median (for the
same code, docs/performance.md, "2026-12-03 (midday)"), and a median of five moves by about
±0.05 from one run to the next. Every submit leaves a queued job and a stored run behind;
alternating also spreads the fuller stream, bucket and run index evenly over the kinds.

The CPU per submit of the gateway (its process tree's, from /proc, over each slice), of
nats-server and of wrk is reported next to requests/s: on two cores the three share the CPU, so
a kind that costs nats-server or wrk more gets fewer requests/s for the same gateway CPU.
"""

from __future__ import annotations

import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from bench._results import write_result
from bench._stack import Stack, cpu_seconds, stack, tree_cpu_seconds
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
FLOW_YAML = ("POST /runs/yaml (seed)", "POST /runs/yaml (50 tasks)")


CPU_FIGURES = ("gateway_cpu_ms", "nats_cpu_ms", "wrk_cpu_ms")


def _cpu(deployment: Stack) -> tuple[float, float, float]:
    """CPU seconds so far of the gateway's process tree, of nats-server and of ended children
    (the wrk runs), in the order of `CPU_FIGURES`."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (
        tree_cpu_seconds(deployment.gateway.pid),
        cpu_seconds(deployment.nats_pid),
        children.ru_utime + children.ru_stime,
    )


def measure(gateway_workers: int, cycles: int, seconds: int) -> dict[str, object]:
    """The medians of `cycles` cycles of `seconds`-long wrk runs, one of each submit kind."""
    with stack(worker=False, gateway_workers=gateway_workers) as deployment:
        url = deployment.gateway_url
        run_id = httpx.post(f"{url}/runs", json={"flow_name": "trivial"}).json()["run_id"]
        wrk(f"{url}/health", 2)  # warm up every process
        order = list(SUBMITS.items())
        slices: list[dict[str, dict[str, float]]] = []
        for cycle in range(cycles):
            turn = order[cycle % len(order) :] + order[: cycle % len(order)]
            results = {}
            for name, submit in turn:
                before = _cpu(deployment)
                results[name] = wrk(f"{url}{submit.path}", seconds, submit.wrk_script())
                after = _cpu(deployment)
                for figure, start, end in zip(CPU_FIGURES, before, after, strict=True):
                    results[name][figure] = (end - start) * 1000 / results[name]["requests"]
            slices.append(results)
        reads = wrk(f"{url}/runs/{run_id}", seconds)

    def median_of(name: str, figure: str) -> float:
        return round(statistics.median(result[name][figure] for result in slices), 3)

    def ratios(name: str, figure: str) -> list[float]:
        return [round(r[name][figure] / r["POST /runs"][figure], 3) for r in slices]

    def median_ratio(name: str, figure: str) -> float:
        return round(statistics.median(ratios(name, figure)), 3)

    return {
        "requests/s": {
            **{name: round(median_of(name, "requests_per_s")) for name in SUBMITS},
            "GET /runs/{id}": round(reads["requests_per_s"]),
        },
        "flow.yaml/JSON requests/s": {
            name: median_ratio(name, "requests_per_s") for name in FLOW_YAML
        },
        "gateway CPU ms per submit": {name: median_of(name, "gateway_cpu_ms") for name in SUBMITS},
        "nats-server CPU ms per submit": {name: median_of(name, "nats_cpu_ms") for name in SUBMITS},
        "wrk CPU ms per submit": {name: median_of(name, "wrk_cpu_ms") for name in SUBMITS},
        "flow.yaml/JSON gateway CPU per submit": {
            name: median_ratio(name, "gateway_cpu_ms") for name in FLOW_YAML
        },
        "latency ms, median of slices": {
            name: {p: median_of(name, p) for p in ("p50_ms", "p90_ms", "p99_ms")}
            for name in SUBMITS
        },
        "slices requests/s": {
            name: [round(result[name]["requests_per_s"]) for result in slices] for name in SUBMITS
        },
        "cycles' flow.yaml/JSON ratios": {
            name: {figure: ratios(name, figure) for figure in ("requests_per_s", "gateway_cpu_ms")}
            for name in FLOW_YAML
        },
    }


def main() -> None:
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    report: dict[str, object] = {"cycles": cycles, "slice_seconds": seconds}
    for workers in (1, 2):
        report[f"{workers} gateway process(es)"] = measure(workers, cycles, seconds)
    print(json.dumps(report, indent=2))
    write_result("gateway", report)


if __name__ == "__main__":
    main()
