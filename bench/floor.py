"""The floor: what the parts every run must go through cost at least, each used bare.

    uv run python -m bench.floor [RUNS] [--floor-only]

Issue 15's CPU budgets (0.5 ms per run in the gateway, 0.8 ms in the worker) are set for this
project's code on top of parts it does not choose to skip: an HTTP server, the NATS client,
JetStream's messages for a run's guarantees, a process per run and pyoco's engine. This measures
those parts with none of this project's code, in the same run, so the budgets can be compared
with what is left for the code itself:

- **http**: uvicorn (uvloop, httptools) serving an ASGI app that reads a JSON body, parses it
  and answers 201 with a small JSON body, under wrk at 32 connections;
- **nats**: two nats-py processes on uvloop doing a run's JetStream messages as the gateway and
  the worker do them (architecture.md, "Where the time goes"), on one nats-server: the
  "gateway" publishes each job with a message id and waits for the ack, creates the run's KV
  record, and watches the bucket (three changes per run); the "worker" fetches jobs from a pull
  consumer (8 at a time at most), reads each run's record, writes it twice with
  compare-and-set and acks the job. Payloads are a job and its PENDING snapshot as
  pyoco-server encodes them (the two writes change only the status), the
  stream and the bucket are configured as pyoco-server's (work-queue retention, history, TTL),
  and a third process watches the bucket as bench.e2e does while it measures this project;
- **run process**: a forked child that receives each run as a pickle through a pipe, runs the
  trivial 2-task flow with pyoco's `Engine` and sends back its state: as pyoco documents it, and
  on task threads shared across runs (pyoco_worker/threads.py, the cheapest way this project
  knows, and the one the worker's floor counts); and a child that only echoes (the pipe and
  pickles alone). One run at a time, so the supervisor's side includes its wake-ups.

Each part is also timed idle, one run at a time 2 ms apart (the JetStream part from the job's
publish until the gateway side sees the terminal change; the HTTP part one request on a kept
connection; the run process one pipe round trip): the idle latency no implementation on these
parts can go below. Prints each part's CPU per run (each process's own, from the kernel) and
the floors they add up to against the budgets; then, unless `--floor-only`, this project's own
figures on both submit paths (bench.e2e's idle latency and wrk load, in the same run) as
multiples of the floors. Writes bench/results/floor.json (`--out FILE` elsewhere).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from bench._floor_nats import IDLE_RUNS, SUBMIT_CONCURRENCY, WORKER_CONCURRENCY, nats_floor
from bench._floor_parts import http_floor, run_process_floor
from bench._results import write_result
from bench._stack import stack
from bench.submits import PATHS

GATEWAY_BUDGET_MS = 0.5
WORKER_BUDGET_MS = 0.8


def run(runs: int) -> dict[str, Any]:
    """Every floor, and what they add up to against the budgets."""
    print("http: uvicorn and a bare app under wrk", flush=True)
    http = http_floor(5)
    print(f"  {http}", flush=True)
    print(f"nats: {runs} runs' JetStream messages, bare", flush=True)
    nats_ = nats_floor(runs)
    print(f"  {nats_}", flush=True)
    print("run process: a pipe and pickles, then with pyoco's engine", flush=True)
    pipe = run_process_floor(runs, engine="")
    print(f"  pipe only: {pipe}", flush=True)
    documented = run_process_floor(runs, engine="pyoco")
    print(f"  with pyoco's engine as documented: {documented}", flush=True)
    pyoco = run_process_floor(runs, engine="shared")
    print(f"  with pyoco's engine on shared task threads: {pyoco}", flush=True)
    gateway = http["cpu_ms_per_request"] + nats_["gateway_cpu_ms_per_run"]
    worker = (
        nats_["worker_cpu_ms_per_run"]
        + pyoco["supervisor_cpu_ms_per_run"]
        + pyoco["child_cpu_ms_per_run"]
    )
    floors = {
        "gateway_cpu_ms_per_run": gateway,
        "gateway_share_of_budget": gateway / GATEWAY_BUDGET_MS,
        "worker_cpu_ms_per_run": worker,
        "worker_share_of_budget": worker / WORKER_BUDGET_MS,
        "nats_server_cpu_ms_per_run": nats_["nats_server_cpu_ms_per_run"],
        "all_processes_cpu_ms_per_run": gateway + worker + nats_["nats_server_cpu_ms_per_run"],
        "runs_per_s_on_two_cores_at_most": 2000
        / (gateway + worker + nats_["nats_server_cpu_ms_per_run"]),
        "idle_p50_ms": http["idle_p50_ms"] + nats_["idle_p50_ms"] + pyoco["idle_p50_ms"],
    }
    print(
        f"floor: gateway {gateway:.3f} ms per run ({gateway / GATEWAY_BUDGET_MS:.0%} of its "
        f"{GATEWAY_BUDGET_MS} ms budget), worker {worker:.3f} ms "
        f"({worker / WORKER_BUDGET_MS:.0%} of {WORKER_BUDGET_MS} ms), nats-server "
        f"{nats_['nats_server_cpu_ms_per_run']:.3f} ms; at most "
        f"{floors['runs_per_s_on_two_cores_at_most']:.0f} runs/s on two cores with nothing else; "
        f"idle p50 {floors['idle_p50_ms']:.2f} ms (HTTP {http['idle_p50_ms']:.2f}, JetStream "
        f"{nats_['idle_p50_ms']:.2f}, run process {pyoco['idle_p50_ms']:.2f})",
        flush=True,
    )
    return {
        "http": http,
        "nats": nats_,
        "run_process_pipe_only": pipe,
        "run_process_with_pyoco_as_documented": documented,
        "run_process_with_pyoco_on_shared_threads": pyoco,
        "floors": floors,
        "budgets_ms": {"gateway": GATEWAY_BUDGET_MS, "worker": WORKER_BUDGET_MS},
    }


def ours(floors: dict[str, float]) -> dict[str, Any]:
    """This project on the same machine right after the floors (bench.e2e's measurements: one
    gateway, one worker of concurrency 8, wrk at 32 connections), as multiples of the floors."""
    from bench.e2e import idle_latency, throughput_wrk

    measured: dict[str, Any] = {}
    with stack(worker_args=["--concurrency", str(WORKER_CONCURRENCY)]) as deployment:
        for name, submit in PATHS.items():
            idle, _ = asyncio.run(idle_latency(deployment, IDLE_RUNS, submit))
            load = asyncio.run(throughput_wrk(deployment, 5, SUBMIT_CONCURRENCY, submit))
            measured[name] = {
                "runs_per_s": load["runs_per_s"],
                "idle_p50_ms": idle.p50_ms,
                "gateway_cpu_ms_per_run": load["gateway_cpu_ms_per_run"],
                "worker_cpu_ms_per_run": load["worker_cpu_ms_per_run"],
                "nats_server_cpu_ms_per_run": load["nats_cpu_ms_per_run"],
            }
            measured[name]["times_the_floor"] = {
                key: measured[name][key] / floors[key]
                for key in (
                    "idle_p50_ms",
                    "gateway_cpu_ms_per_run",
                    "worker_cpu_ms_per_run",
                    "nats_server_cpu_ms_per_run",
                )
            }
            print(f"  {name}: {measured[name]}", flush=True)
    return measured


def main(arguments: list[str]) -> None:
    if "--out" in arguments:  # write_result reads it
        at = arguments.index("--out")
        del arguments[at : at + 2]
    floor_only = "--floor-only" in arguments
    if floor_only:
        arguments.remove("--floor-only")
    result = run(int(arguments[0]) if arguments else 5000)
    if not floor_only:
        print("this project, right after (bench.e2e's measurements)", flush=True)
        result["ours"] = ours(result["floors"])
    write_result("floor", result)


if __name__ == "__main__":
    main(sys.argv[1:])
