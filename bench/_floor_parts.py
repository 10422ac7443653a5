"""bench.floor's local parts: an HTTP server with a bare app, and a run process's pipe with and
without pyoco's engine. bench/floor.py says what they measure."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from bench._floor_nats import IDLE_RUNS, SUBMIT_CONCURRENCY
from bench._stack import cpu_seconds, free_port
from bench.submits import JSON


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare submit endpoint: read the JSON body, parse it, answer 201 with a run id."""
    assert scope["type"] == "http"
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    request = orjson.loads(body)
    answer = orjson.dumps(
        {"run_id": uuid.uuid4().hex, "status": "PENDING", "flow_name": request["flow_name"]}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(answer)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": answer})


def http_floor(seconds: int) -> dict[str, float]:
    """uvicorn with the bare app under wrk: requests/s and the server's CPU per request."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench._floor_parts:app",
            "--host",
            "127.0.0.1",
            f"--port={port}",
            "--loop=uvloop",
            "--http=httptools",
            "--lifespan=off",
            "--no-access-log",
            "--log-level=warning",
        ]
    )
    try:
        _wait_listening(port)
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(JSON.wrk_script())
        url = f"http://127.0.0.1:{port}{JSON.path}"
        subprocess.run(
            ["wrk", "-t1", "-c4", "-d1s", "-s", str(script), url], check=True, capture_output=True
        )  # warm up
        cpu = cpu_seconds(server.pid)
        output = subprocess.run(
            ["wrk", "-t1", f"-c{SUBMIT_CONCURRENCY}", f"-d{seconds}s", "-s", str(script), url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        spent = cpu_seconds(server.pid) - cpu
        script.unlink()
        idle = _idle_http(port)
    finally:
        server.terminate()
        server.wait(10)
    found = re.search(r"(\d+) requests in ([\d.]+)s", output)
    assert found, output
    requests = int(found.group(1))
    if "Non-2xx" in output:
        raise RuntimeError(f"the bare app answered errors:\n{output}")
    return {
        "requests_per_s": requests / float(found.group(2)),
        "cpu_ms_per_request": spent * 1000 / requests,
        "idle_p50_ms": idle,
    }


def _idle_http(port: int) -> float:
    """p50 of one submit at a time on a kept-alive connection, 2 ms apart, in ms."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port)
    walls = []
    for _ in range(IDLE_RUNS):
        time.sleep(0.002)
        started = time.perf_counter()
        connection.request("POST", JSON.path, JSON.body, {"Content-Type": JSON.content_type})
        connection.getresponse().read()
        walls.append(time.perf_counter() - started)
    connection.close()
    return statistics.median(walls) * 1000


def _wait_listening(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def _add_one(x: int) -> int:
    return x + 1


def _to_text(add_one: int) -> str:
    return str(add_one)


def _child(connection: Connection, engine: str) -> None:
    """Run each job received (or echo it), until told to stop; then send this process's CPU.

    `engine` is "" (echo), "pyoco" (pyoco's `Engine` as documented) or "shared" (the same, with
    the task threads shared across runs and a lone task run on the engine's thread, as this
    project's run processes do: pyoco_worker/threads.py).
    """
    work = _trivial_run(engine) if engine else _echo
    cpu = time.process_time()
    while True:
        data = connection.recv_bytes()
        if data == b"stop":
            connection.send_bytes(pickle.dumps(time.process_time() - cpu))
            return
        if data == b"start":
            cpu = time.process_time()
            continue
        reply = work(pickle.loads(data))
        connection.send_bytes(pickle.dumps(reply, pickle.HIGHEST_PROTOCOL))


def _echo(job: dict[str, Any]) -> dict[str, Any]:
    return {"status": "COMPLETED", "tasks": {}, "results": job["params"]}


def _trivial_run(engine: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function running the trivial flow with pyoco's engine for a job, returning its state."""
    from pyoco import Flow, task
    from pyoco.core.engine import Engine
    from pyoco.core.models import RunContext
    from pyoco.trace.backend import TraceBackend

    lone: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext
    if engine == "shared":
        from pyoco_worker import threads

        threads.share_task_threads()
        lone = threads.lone_tasks_here

    class Quiet(TraceBackend):  # type: ignore[misc]
        def on_flow_start(self, flow_name: str, run_id: str | None = None) -> None: ...
        def on_flow_end(self, flow_name: str) -> None: ...
        def on_node_start(self, node_name: str) -> None: ...
        def on_node_end(self, node_name: str, duration_ms: float) -> None: ...
        def on_node_error(self, node_name: str, error: Exception) -> None: ...

    add_one, to_text = task(_add_one), task(_to_text)
    add_one.task.name, to_text.task.name = "add_one", "to_text"
    flow = Flow(name="trivial")
    flow >> add_one >> to_text
    os.chdir(tempfile.mkdtemp())  # pyoco's Context makes ./artifacts

    def work(job: dict[str, Any]) -> dict[str, Any]:
        run = RunContext(run_id=job["run_id"])
        with lone():
            context = Engine(trace_backend=Quiet()).run(flow, params=job["params"], run_context=run)
        return {
            "status": run.status.value,
            "tasks": {name: state.value for name, state in run.tasks.items()},
            "results": dict(context.results),
        }

    return work


def run_process_floor(runs: int, engine: str) -> dict[str, float]:
    """One run at a time through a forked child's pipe; CPU per run on both sides."""
    parent, child_end = multiprocessing.get_context("fork").Pipe()
    child = multiprocessing.get_context("fork").Process(target=_child, args=(child_end, engine))
    child.start()

    def one() -> None:
        job = {"run_id": uuid.uuid4().hex, "params": {"x": 1}, "flow_name": "trivial"}
        parent.send_bytes(pickle.dumps(job, pickle.HIGHEST_PROTOCOL))
        pickle.loads(parent.recv_bytes())

    for _ in range(min(runs, 300)):
        one()
    parent.send_bytes(b"start")
    cpu = time.process_time()
    for _ in range(runs):
        one()
    parent_ms = (time.process_time() - cpu) * 1000 / runs
    walls = []
    for _ in range(IDLE_RUNS):
        time.sleep(0.002)
        started = time.perf_counter()
        one()
        walls.append(time.perf_counter() - started)
    parent.send_bytes(b"stop")
    child_ms = pickle.loads(parent.recv_bytes()) * 1000 / runs  # idle runs included: a bound
    child.join(10)
    return {
        "supervisor_cpu_ms_per_run": parent_ms,
        "child_cpu_ms_per_run": child_ms,
        "idle_p50_ms": statistics.median(walls) * 1000,
    }
