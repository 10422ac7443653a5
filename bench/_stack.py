"""A throwaway deployment for benchmarks: nats-server, gateway and worker processes on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyoco_server.local.natsserver import NatsServer

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def fresh_nats() -> Iterator[NatsServer]:
    """A nats-server of its own, on a temporary store, stopped on exit."""
    with tempfile.TemporaryDirectory() as scratch:
        server = NatsServer(Path(scratch))
        server.start()
        try:
            yield server
        finally:
            server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process plus its live descendants."""
    total = cpu_seconds(pid)
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for child_pid in child.read_text().split():
            total += tree_cpu_seconds(int(child_pid))
    return total


def _smaps(pid: int) -> dict[str, int]:
    """The kB fields of /proc/PID/smaps_rollup (Rss, Pss, Private_Dirty, ...)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        fields[name] = int(value.split()[0])
    return fields


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").glob("*/children")
        for child in task.read_text().split()
    ]


def memory_mib(gateway_pid: int, worker_pid: int) -> dict[str, float]:
    """Gateway RSS; the worker's supervisor PSS (shared pages counted once across the tree)
    and its run processes' private memory (each one's own pages), in MiB.

    The run processes are the children of the worker's fork server; its other children (the
    fork server itself, multiprocessing's resource tracker) count in the tree's PSS only.
    """
    mib = 1024.0
    gateway = _smaps(gateway_pid)
    supervisor = _smaps(worker_pid)
    descendants = []
    pending = _children(worker_pid)
    while pending:
        pid = pending.pop()
        descendants.append(pid)
        pending.extend(_children(pid))
    run_processes = [
        pid
        for server in _children(worker_pid)
        if b"forkserver" in Path(f"/proc/{server}/cmdline").read_bytes()
        for pid in _children(server)
    ]
    private = [
        (fields["Private_Clean"] + fields["Private_Dirty"]) / mib
        for fields in (_smaps(pid) for pid in run_processes)
    ]
    return {
        "gateway_rss": gateway["Rss"] / mib,
        "worker_supervisor_pss": supervisor["Pss"] / mib,
        "worker_tree_pss": (supervisor["Pss"] + sum(_smaps(pid)["Pss"] for pid in descendants))
        / mib,
        "worker_processes": len(descendants),
        "worker_run_processes": len(run_processes),
        "worker_child_private_max": max(private, default=0.0),
        "worker_child_private_mean": sum(private) / len(private) if private else 0.0,
    }


@dataclass
class Stack:
    nats_url: str
    gateway_url: str
    gateway: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes] | None
    nats_pid: int


def worker_command(*args: str) -> list[str]:
    """The benchmarks' worker: tag `default`, the benchmark flows by name, then `args`."""
    return [
        sys.executable,
        "-m",
        "pyoco_worker.cli",
        "--tags",
        "default",
        "--flow-resolver",
        "bench.flows:resolve",
        *args,
    ]


def _wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1.0):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def serving(
    url: str,
    nats_server: NatsServer,
    gateway: subprocess.Popen[bytes],
    worker: subprocess.Popen[bytes] | None,
) -> Iterator[Stack]:
    """The deployment once its gateway answers at `url`; the gateway and worker stopped (SIGTERM,
    then SIGKILL after a minute) on exit."""
    try:
        _wait_http(f"{url}/health")
        assert nats_server.pid is not None
        yield Stack(nats_server.url, url, gateway, worker, nats_server.pid)
    finally:
        for process in (gateway, worker):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@contextmanager
def stack(
    *,
    worker: bool = True,
    worker_args: Sequence[str] = (),
    gateway_workers: int = 1,
    extra_env: Mapping[str, str] | None = None,
    nats_server: NatsServer | None = None,
) -> Iterator[Stack]:
    """nats-server, gateway and (optionally) a worker on loopback, stopped on exit.

    Pass a running `nats_server` to use it (it is left running); otherwise one is started.
    """
    with tempfile.TemporaryDirectory() as scratch:
        own_nats = nats_server is None
        if nats_server is None:
            nats_server = NatsServer(Path(scratch) / "nats")
            nats_server.start()
        env = {
            **os.environ,
            "PYOCO_NATS_URL": nats_server.url,
            "PYOCO_LOAD_DOTENV": "0",
            "PYOCO_LOG_LEVEL": "warning",
            **(extra_env or {}),
        }
        port = free_port()
        log = open(Path(scratch) / "stack.log", "wb")  # noqa: SIM115
        gateway = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pyoco_server.gateway",
                "--port",
                str(port),
                "--workers",
                str(gateway_workers),
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        worker_process = None
        if worker:
            worker_process = subprocess.Popen(
                worker_command(*worker_args),
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            with serving(url, nats_server, gateway, worker_process) as deployment:
                yield deployment
        finally:
            log.close()
            if own_nats:
                nats_server.stop()
