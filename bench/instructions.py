"""The gateway's instructions per run end to end, counted by valgrind, on both submit paths.

    uv run python -m bench.instructions [RUNS] [--submits] [--keep DIR]

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

With `--submits` no worker runs: the submits alone are counted (JSON, the seed's flow.yaml and
one of 50 tasks, over 32 connections as `bench.gateway`'s wrk sends them), each covering the
request, its response and the PENDING change the gateway then follows; what `bench.gateway`
measures in CPU time, without the machine's noise. The reaper is held off: every 30 s it reads
queued runs from the run index (a page of the oldest, and those it saw in the last hour), and
with nothing running them the queue only grows, a cost that would fall into whichever kind is
being counted. Results: bench/results/instructions_submits.json.

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
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from bench._http import Connection
from bench._results import write_result
from bench._stack import ROOT, _wait_http, free_port, fresh_nats, worker_command
from bench.e2e import watch_terminals
from bench.submits import CHAIN, JSON, PATHS, SEED, Submit

CONNECTIONS = 8
WARM_UP = 50
SUBMITS = {"json": JSON, "flow.yaml (seed)": SEED, "flow.yaml (50 tasks)": CHAIN}
"""`--submits`: the kinds `bench.gateway` sends, counted with no worker."""
SUBMIT_CONNECTIONS = 32


async def submit_all(url: str, nats_url: str, submit: Submit, runs: int) -> None:
    """Submit `runs` runs over `CONNECTIONS` connections and wait until each has ended."""
    nc, watch = await watch_terminals(nats_url)
    await post_all(url, submit, runs, CONNECTIONS, watch.wait)
    await asyncio.sleep(1)  # the last changes reach the gateway's index
    await nc.close()


async def submit_only(url: str, _nats_url: str, submit: Submit, runs: int) -> None:
    """Submit `runs` runs over `SUBMIT_CONNECTIONS` connections (nothing runs them)."""
    await post_all(url, submit, runs, SUBMIT_CONNECTIONS, None)
    await asyncio.sleep(1)  # their PENDING changes reach the gateway's index


async def post_all(
    url: str,
    submit: Submit,
    runs: int,
    connections: int,
    ended: Callable[[str], Awaitable[object]] | None,
) -> None:
    """POST `submit` `runs` times over `connections` connections; then, if told, wait until
    `ended` says each run has."""
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

    batches = await asyncio.gather(*(one_connection() for _ in range(connections)))
    if ended is not None:
        for run_id in (run_id for batch in batches for run_id in batch):
            await asyncio.wait_for(ended(run_id), 300)


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


def measure(runs: int, kinds: Mapping[str, Submit], with_worker: bool) -> dict[str, float]:
    """Instructions per run of each kind of submit (`with_worker`: run to their end)."""
    with fresh_nats() as server, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        env = {
            **os.environ,
            "PYOCO_NATS_URL": server.url,
            "PYOCO_LOAD_DOTENV": "0",
            "PYOCO_LOG_LEVEL": "warning",
            "PYOCO_INDEX_DIR": str(folder / "index"),
        }
        if not with_worker:  # its reading of queued runs would fall into one kind or another
            env["PYOCO_REAPER_INTERVAL_SEC"] = "86400"
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
        worker = None
        if with_worker:
            worker = subprocess.Popen(
                worker_command("--concurrency", "8"),
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        send = submit_all if with_worker else submit_only
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_http(f"{url}/health", timeout=600)
            for submit in kinds.values():
                asyncio.run(send(url, server.url, submit, WARM_UP))
            dump(gateway.pid, "start")
            for number, submit in enumerate(kinds.values()):
                asyncio.run(send(url, server.url, submit, runs))
                dump(gateway.pid, f"kind{number}")  # a dump's name is one word
        finally:
            processes = [process for process in (gateway, worker) if process is not None]
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(120)
        counted = totals(folder)
        if "--keep" in sys.argv:  # the dumps, for callgrind_annotate
            kept = Path(sys.argv[sys.argv.index("--keep") + 1])
            kept.mkdir(parents=True, exist_ok=True)
            for path in folder.glob("callgrind.out*"):
                shutil.copy(path, kept / path.name)
    return {name: counted[f"kind{number}"] / runs for number, name in enumerate(kinds)}


def main() -> None:
    numbers = [int(arg) for arg in sys.argv[1:] if arg.isdigit()]
    runs = numbers[0] if numbers else 1000
    if "--submits" in sys.argv:
        per_submit = measure(runs, SUBMITS, with_worker=False)
        result: dict[str, object] = {
            "submits": runs,
            "gateway_instructions_per_submit": {
                name: round(value) for name, value in per_submit.items()
            },
            "flow.yaml/JSON": {
                name: round(value / per_submit["json"], 4)
                for name, value in per_submit.items()
                if name != "json"
            },
        }
        print(json.dumps(write_result("instructions_submits", result), indent=2))
        return
    per_run = measure(runs, PATHS, with_worker=True)
    result = {
        "runs": runs,
        "gateway_instructions_per_run": {name: round(value) for name, value in per_run.items()},
        "flow.yaml/JSON": per_run["flow.yaml"] / per_run["json"],
    }
    print(json.dumps(write_result("instructions", result), indent=2))


if __name__ == "__main__":
    main()
