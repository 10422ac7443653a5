"""A run process's own work per run, in this process: wall time and CPU of the seed flow.yaml.

    uv run python -m bench.run_process [RUNS] [--tasks N]

With `--tasks N` the flow is a chain of N tasks (bench/flows.py `chain_yaml`) instead.

What a warm run process does for each run (child.py), without the worker: the job's flow built
from its flow.yaml (cached after the first run), run by pyoco on the run process's shared task
threads, output captured, and `Finished` sent through a pipe and read back. Runs go one at a
time with 2 ms between them, as on an idle worker, so the wall time includes the wake-ups of
the threads involved. Prints the wall time's p50 and p90 and the CPU per run.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import statistics
import sys
import time
import uuid

from bench.flows import SEED_YAML, chain_yaml
from pyoco_server.domain.records import Job
from pyoco_worker import threads
from pyoco_worker.capture import OutputCapture
from pyoco_worker.child import _Channel
from pyoco_worker.engine import JobExecution
from pyoco_worker.execution import Installed
from pyoco_worker.flows import FlowSource
from pyoco_worker.protocol import Finished

IDLE_SEC = 0.002
WARM_UP = 300


def main(runs: int, flow_yaml: bytes = SEED_YAML) -> None:
    threads.share_task_threads()  # as each run process does at start
    received, sent = multiprocessing.Pipe(duplex=False)
    channel = _Channel(sent, ctypes.create_string_buffer(16384))
    capture = OutputCapture(channel.send, 1 << 20, None)
    capture.install()
    flows = FlowSource(None)

    def one() -> None:
        job = Job(
            tenant_id=None,
            run_id=uuid.uuid4().hex,
            flow_name="main",
            tag="default",
            tags=("default",),
            params={"x": 1},
            submitted_at=time.time(),
            workflow_yaml=flow_yaml.decode(),
        )
        execution = JobExecution(flows, job, channel.mark_changed, Installed(), tasks=capture)
        channel.begin(job.run_id, execution)
        capture.begin(job.run_id)
        outcome = execution.run()
        capture.end()
        channel.end()
        channel.send(Finished(outcome))
        received.recv_bytes()
        assert outcome.status.value == "COMPLETED", outcome

    for _ in range(WARM_UP):
        one()
    walls = []
    cpu = time.process_time()
    for _ in range(runs):
        started = time.perf_counter()
        one()
        walls.append(time.perf_counter() - started)
        time.sleep(IDLE_SEC)
    cpu_ms = (time.process_time() - cpu) * 1000 / runs
    p90 = statistics.quantiles(walls, n=10)[-1]
    print(
        f"{runs} runs: wall p50 {statistics.median(walls) * 1000:.3f} ms, "
        f"p90 {p90 * 1000:.3f} ms; CPU {cpu_ms:.3f} ms per run"
    )


if __name__ == "__main__":
    arguments = sys.argv[1:]
    tasks = None
    if "--tasks" in arguments:
        at = arguments.index("--tasks")
        tasks = int(arguments[at + 1])
        del arguments[at : at + 2]
    main(
        int(arguments[0]) if arguments else 2000,
        SEED_YAML if tasks is None else chain_yaml(tasks),
    )
