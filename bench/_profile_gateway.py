"""Measure (and with --profile, profile) the gateway alone under wrk: POST /runs and GET /runs/{id}.

    uv run python -m bench._profile_gateway [--yaml] [--profile [SORT [RESTRICTION]]]

With --yaml the submits are `POST /runs/yaml` of the seed flow.yaml (multipart), else JSON.

SORT is a pstats sort key (default tottime); RESTRICTION a row count or a regular expression on
the file and function (`--profile cumulative pyoco_server` shows only this project's code).

Needs `wrk` (apt-get install wrk). The gateway runs in this process (uvicorn, one worker).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import uvicorn

from bench._stack import free_port
from bench.submits import SEED
from pyoco_server import heap
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import create_app
from pyoco_server.jetstream import NatsBackend
from pyoco_server.local.natsserver import NatsServer

POST = """
wrk.method = "POST"
wrk.body = '{"flow_name":"trivial","params":{"x":1}}'
wrk.headers["Content-Type"] = "application/json"
"""


def wrk(url: str, script: str | None, seconds: int = 6) -> str:
    args = ["wrk", "-t1", "-c16", f"-d{seconds}s", url]
    if script:
        path = Path(tempfile.mkstemp(suffix=".lua")[1])
        path.write_text(script)
        args += ["-s", str(path)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return next(line for line in out.splitlines() if "Requests/sec" in line).split()[-1]


def main() -> None:
    profiling = "--profile" in sys.argv
    with tempfile.TemporaryDirectory() as scratch:
        server = NatsServer(Path(scratch))
        server.start()
        settings = Settings.from_env(
            {"PYOCO_NATS_URL": server.url, "PYOCO_LOAD_DOTENV": "0", "PYOCO_LOG_LEVEL": "warning"}
        )
        port = free_port()
        config = uvicorn.Config(
            create_app(settings, NatsBackend(settings, "bench-gateway")),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )
        gateway = uvicorn.Server(config)
        heap.settle_after_startup()  # as the gateway's server does (gateway/app.py app_from_env)
        profile = cProfile.Profile()

        def serve() -> None:
            if profiling:
                profile.enable()
            gateway.run()
            if profiling:
                profile.disable()

        thread = threading.Thread(target=serve)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        while not gateway.started:
            time.sleep(0.05)
        started = time.process_time()
        print("measuring", file=sys.stderr, flush=True)  # bench.spy starts sampling here
        if "--yaml" in sys.argv:
            posts = wrk(f"{url}/runs/yaml", SEED.wrk_script())
        else:
            posts = wrk(f"{url}/runs", POST)
        request = urllib.request.Request(
            f"{url}/runs",
            json.dumps({"flow_name": "x"}).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            run_id = json.load(response)["run_id"]
        gets = wrk(f"{url}/runs/{run_id}", None)
        cpu = time.process_time() - started
        gateway.should_exit = True
        thread.join()
        server.stop()
    print(f"POST /runs {posts} req/s, GET /runs/{{id}} {gets} req/s (gateway CPU {cpu:.1f}s)")
    if profiling:
        options = sys.argv[sys.argv.index("--profile") + 1 :]
        order = options[0] if options else "tottime"
        restriction: int | str = options[1] if len(options) > 1 else 35
        if isinstance(restriction, str) and restriction.isdigit():
            restriction = int(restriction)
        pstats.Stats(profile).sort_stats(order).print_stats(restriction)


if __name__ == "__main__":
    main()
