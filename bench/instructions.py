"""The gateway's instructions per run end to end, counted by valgrind, on both submit paths.

    uv run python -m bench.instructions [RUNS] [--keep DIR]

CPU time on this shared machine moves by tens of percent within minutes, more than most changes
to the gateway do; instructions do not. Here the gateway (`python -m pyoco_server.gateway`, as
shipped) runs under valgrind's callgrind (`apt-get install valgrind`) beside a nats-server and a
worker that run as usual. RUNS runs (1,000 unless told) of each kind, JSON by name and the
seed's flow.yaml, are submitted through HTTP over 8 connections and run to their end; the
gateway's counters are taken (`callgrind_control --dump`) before and after each kind, so each
figure covers the submits, the responses and the three changes of each run the gateway follows
(its run index, event feed and metrics), and not its start. A second after the last run ends
is left for the last changes to be applied. Results: bench/results/instructions.json; with
`--keep DIR` the counters themselves are copied to DIR, one file per kind, for
`callgrind_annotate` (which C functions the instructions went to; Python's own show as the
interpreter's).

Under valgrind the gateway is about fifty times as slow, so its timers (heartbeats of the NATS
connection, the reaper) fire more often per run than in service: a few per cent of the figure.
Compare versions with this benchmark, and the figures with CPU time only as ratios.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._http import Connection
from bench._results import write_result
from bench._stack import ROOT, _wait_http, free_port, fresh_nats, worker_command
from bench.e2e import watch_terminals
from bench.submits import PATHS, Submit

CONNECTIONS = 8
WARM_UP = 50


async def submit_all(url: str, nats_url: str, submit: Submit, runs: int) -> None:
    """Submit `runs` runs over `CONNECTIONS` connections and wait until each has ended."""
    nc, watch = await watch_terminals(nats_url)
    left = list(range(runs))

    async def one_connection() -> list[str]:
        connection = await Connection.open(url)
        run_ids = []
        while left:
            left.pop()
            status, accepted = await connection.post(submit.path, submit.body, submit.content_type)
            assert status == 201, (status, accepted)
            run_ids.append(accepted["run_id"])
        await connection.close()
        return run_ids

    batches = await asyncio.gather(*(one_connection() for _ in range(CONNECTIONS)))
    for run_id in (run_id for batch in batches for run_id in batch):
        await asyncio.wait_for(watch.wait(run_id), 300)
    await asyncio.sleep(1)  # the last changes reach the gateway's index
    await nc.close()


def dump(pid: int, name: str) -> None:
    """Write the gateway's counters since the last dump, under `name`."""
    subprocess.run(
        ["callgrind_control", f"--dump={name}", str(pid)],
        check=True,
        text=True,
        capture_output=True,
    )


def totals(folder: Path) -> dict[str, int]:
    """The instructions of each dump, by its name."""
    found = {}
    for path in folder.glob("callgrind.out*"):
        text = path.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: (?:dump )?(.*)$", text, re.MULTILINE)
        total = re.search(r"^(?:totals|summary): (\d+)", text, re.MULTILINE)
        if trigger and total:
            found[trigger.group(1).strip()] = int(total.group(1))
    return found


def measure(runs: int) -> dict[str, float]:
    """Instructions per run of each path."""
    with fresh_nats() as server, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        env = {
            **os.environ,
            "PYOCO_NATS_URL": server.url,
            "PYOCO_LOAD_DOTENV": "0",
            "PYOCO_LOG_LEVEL": "warning",
            "PYOCO_INDEX_DIR": str(folder / "index"),
        }
        port = free_port()
        gateway = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={folder}/callgrind.out",
                sys.executable,
                "-m",
                "pyoco_server.gateway",
                "--port",
                str(port),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        worker = subprocess.Popen(
            worker_command("--concurrency", "8"),
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_http(f"{url}/health", timeout=600)
            for submit in PATHS.values():
                asyncio.run(submit_all(url, server.url, submit, WARM_UP))
            dump(gateway.pid, "start")
            for name, submit in PATHS.items():
                asyncio.run(submit_all(url, server.url, submit, runs))
                dump(gateway.pid, name)
        finally:
            for process in (gateway, worker):
                process.send_signal(signal.SIGTERM)
            for process in (gateway, worker):
                process.wait(120)
        counted = totals(folder)
        if "--keep" in sys.argv:  # the dumps, for callgrind_annotate
            kept = Path(sys.argv[sys.argv.index("--keep") + 1])
            kept.mkdir(parents=True, exist_ok=True)
            for path in folder.glob("callgrind.out*"):
                shutil.copy(path, kept / path.name)
    return {name: counted[name] / runs for name in PATHS}


def main() -> None:
    numbers = [int(arg) for arg in sys.argv[1:] if arg.isdigit()]
    runs = numbers[0] if numbers else 1000
    per_run = measure(runs)
    result = {
        "runs": runs,
        "gateway_instructions_per_run": {name: round(value) for name, value in per_run.items()},
        "flow.yaml/JSON": per_run["flow.yaml"] / per_run["json"],
    }
    print(json.dumps(write_result("instructions", result), indent=2))


if __name__ == "__main__":
    main()
