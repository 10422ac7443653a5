"""GET /metrics: the Prometheus series, against the real gateway, workers and NATS."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pyoco_server.domain.records import WorkerState
from pyoco_server.gateway.metrics import (
    CONTENT_TYPE,
    UNMATCHED,
    GatewayMetrics,
    multiprocess_dir,
    operation_id_of,
    status_class,
)
from pyoco_server.local.natsserver import NatsServer
from pyoco_server.ports import Deployment, QueueDepth
from tests.support.flows import FLOW_YAML, flow_yaml
from tests.support.processes import Gateway, WorkerFactory, children_of, http_ok, start_up
from tests.support.runs import submit
from tests.support.waiting import wait_terminal, wait_until

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]

SLEEP_YAML = flow_yaml("sleep_for")


def parse(text: str) -> Series:
    """Every sample of a scrape, by name and labels (fails on text that does not parse)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float | None:
    return series.get((name, frozenset(labels.items())))


def scrape(client: httpx.Client) -> Series:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE
    return parse(response.text)


def requests_of(series: Series, operation_id: str, status: str) -> float | None:
    return value(
        series,
        "pyoco_http_request_duration_seconds_count",
        operation_id=operation_id,
        status_class=status,
    )


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    # A sleeping task ends (killed) one second after a cancel or a worker's stop.
    return {
        **settings_env,
        "PYOCO_CANCEL_GRACE_PERIOD_SEC": "1",
        "PYOCO_WORKER_SHUTDOWN_GRACE_SEC": "1",
    }


def test_empty_deployment_answers_with_zeros(gateway: Gateway) -> None:
    with gateway.client() as client:
        response = client.get("/metrics")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == CONTENT_TYPE
        assert "pyoco_dead_letters 0.0" in response.text.splitlines()
        assert "pyoco_runs_stale 0.0" in response.text.splitlines()
        series = parse(response.text)
    assert value(series, "pyoco_workers_alive") == 0
    for state in WorkerState:
        assert value(series, "pyoco_workers", state=state.value) == 0
    assert not [key for key in series if key[0].startswith("pyoco_queue_")]
    assert not [key for key in series if "5xx" in dict(key[1]).values()]
    assert not [key for key in series if key[0].endswith("_created")]


def test_queue_and_worker_series_follow_the_deployment(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker(tags=("parked",), worker_id="parked").stop()
    start_worker(worker_id="busy", args=["--concurrency", "1"])
    pid_file = tmp_path / "task.pid"
    with gateway.client() as client:
        wait_terminal(client, submit(client, FLOW_YAML))
        sleeping = submit(
            client, SLEEP_YAML, params=f'{{"seconds": 3600, "pid_file": "{pid_file}"}}'
        )
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), what="the task to start")
        submit(client, FLOW_YAML)  # waits: the worker's only slot is taken
        submit(client, FLOW_YAML, tag="parked")
        submit(client, FLOW_YAML, tag="parked")

        def settled() -> Series | None:
            series = scrape(client)
            running = value(series, "pyoco_workers", state="RUNNING")
            return series if running == 1 else None

        series = wait_until(settled, what="the busy worker to show RUNNING")
        assert isinstance(series, dict)
        client.post(f"/runs/{sleeping}/cancel")

    assert value(series, "pyoco_queue_pending", tag="default") == 1
    assert value(series, "pyoco_queue_in_flight", tag="default") == 1
    assert value(series, "pyoco_queue_redelivered", tag="default") == 0
    assert value(series, "pyoco_queue_pending", tag="parked") == 2
    assert value(series, "pyoco_queue_in_flight", tag="parked") == 0
    assert value(series, "pyoco_workers_alive") == 1
    assert value(series, "pyoco_workers", state="STOPPED_GRACEFUL") == 1
    assert value(series, "pyoco_workers", state="IDLE") == 0
    assert value(series, "pyoco_dead_letters") == 0
    assert requests_of(series, "submit_run_yaml", "2xx") == 5
    assert (requests_of(series, "get_run", "2xx") or 0) >= 1


def test_request_durations_by_operation_and_status_class(gateway: Gateway) -> None:
    with gateway.client() as client:
        before = scrape(client)
        assert client.get("/health").status_code == 200
        assert client.get("/health").status_code == 200
        assert client.get(f"/runs/{'0' * 8}-0000-4000-8000-{'0' * 12}").status_code == 404
        assert client.post("/runs", json={"flow_name": 3}).status_code == 400
        assert client.get("/no/such/path").status_code == 404
        after = scrape(client)

    def added(operation_id: str, status: str) -> float:
        return (requests_of(after, operation_id, status) or 0) - (
            requests_of(before, operation_id, status) or 0
        )

    assert added("get_health", "2xx") == 2
    assert added("get_run", "4xx") == 1
    assert added("submit_run", "4xx") == 1
    assert added(UNMATCHED, "4xx") == 1
    assert added("get_metrics", "2xx") == 1
    total = value(
        after,
        "pyoco_http_request_duration_seconds_sum",
        operation_id="get_health",
        status_class="2xx",
    )
    assert total is not None
    assert 0 < total < 10


def test_nats_down_answers_503_problem(gateway: Gateway, nats_server: NatsServer) -> None:
    nats_server.stop()
    with gateway.client() as client:
        response = client.get("/metrics")
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"]
        assert response.json()["reason"] == "backend_unavailable"


def test_up_with_several_gateway_processes_sums_their_counts(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    process, url = start_up(
        tmp_path, "--no-worker", "--nats-url", nats_server.url, "--workers", "2"
    )
    try:
        (gateway_pid,) = children_of(process.pid)
        directory = Path(_environ(gateway_pid)["PROMETHEUS_MULTIPROC_DIR"])
        with httpx.Client(base_url=url, timeout=10) as client:
            sent = requests_of(scrape(client), "get_health", "2xx") or 0  # up's readiness probe

        def both_processes_counted() -> bool:
            nonlocal sent
            assert http_ok(f"{url}/health")  # a new connection each time
            sent += 1
            return len(list(directory.glob("histogram_*.db"))) >= 2

        wait_until(both_processes_counted, what="both gateway processes to serve a request")
        for _ in range(4):  # whichever process answers, it counts every process's requests
            with httpx.Client(base_url=url, timeout=10) as client:
                assert requests_of(scrape(client), "get_health", "2xx") == sent
    finally:
        process.signal(signal.SIGTERM)
        assert process.wait(60) == 0
    assert not directory.exists()


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(): val.decode(errors="replace") for key, val in pairs}


def test_render_without_nats() -> None:
    metrics = GatewayMetrics(run_counts=lambda: {"RUNNING": 2, "COMPLETED": 5})
    metrics.submitted("default")
    metrics.submitted("default")
    metrics.observe_request("get_run", 404, 0.01)
    deployment = Deployment(
        queues=(QueueDepth("b", 3, 1, 1), QueueDepth("a", 0, 0, 0)),
        workers={WorkerState.IDLE: 2, WorkerState.DISCONNECTED: 1},
        dead_letters=7,
    )
    series = parse(metrics.render(deployment).decode())
    assert value(series, "pyoco_runs_submitted_total", tag="default") == 2
    assert requests_of(series, "get_run", "4xx") == 1
    assert value(series, "pyoco_runs", status="RUNNING") == 2
    assert value(series, "pyoco_runs", status="PENDING") == 0
    assert value(series, "pyoco_queue_pending", tag="b") == 3
    assert value(series, "pyoco_queue_redelivered", tag="b") == 1
    assert value(series, "pyoco_workers_alive") == 2
    assert value(series, "pyoco_workers", state="DISCONNECTED") == 1
    assert value(series, "pyoco_dead_letters") == 7
    assert "pyoco_runs{" not in GatewayMetrics().render(Deployment()).decode()


def test_each_request_counts_in_its_series_however_often_it_is_met() -> None:
    """The series are kept by their labels' sources: statuses of one class share a series."""
    metrics = GatewayMetrics()
    for status in (404, 409, 200, 200, None, 404):
        metrics.observe_request("get_run", status, 0.01)
    metrics.observe_request("list_runs", 200, 0.01)
    series = parse(metrics.render(Deployment()).decode())
    assert requests_of(series, "get_run", "4xx") == 3
    assert requests_of(series, "get_run", "2xx") == 2
    assert requests_of(series, "get_run", "5xx") == 1
    assert requests_of(series, "list_runs", "2xx") == 1


def test_metrics_objects_share_no_state() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()
    first.submitted("a")
    assert "tag=" not in second.render(Deployment()).decode()


def test_helpers() -> None:
    assert [status_class(code) for code in (200, 201, 404, 503, None)] == [
        "2xx",
        "2xx",
        "4xx",
        "5xx",
        "5xx",
    ]
    assert operation_id_of({"extensions": {"connexion_routing": {"operation_id": "x"}}}) == "x"
    assert operation_id_of({"extensions": {"connexion_routing": {"operation_id": None}}}) == (
        UNMATCHED
    )
    assert operation_id_of({}) == UNMATCHED
    assert multiprocess_dir({}) is None
    assert multiprocess_dir({"PROMETHEUS_MULTIPROC_DIR": " "}) is None
    assert multiprocess_dir({"PROMETHEUS_MULTIPROC_DIR": "/tmp/m"}) == Path("/tmp/m")
