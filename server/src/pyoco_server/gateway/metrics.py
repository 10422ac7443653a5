"""Prometheus metrics of the gateway: what each process counts, and what a scrape reads.

Two kinds of series:

- counted by every gateway process as requests come: `pyoco_http_request_duration_seconds`
  (recorded by `RequestMetricsMiddleware`) and `pyoco_runs_submitted_total`. With
  PROMETHEUS_MULTIPROC_DIR set (`pyoco-server up --workers N`), prometheus-client keeps them in
  files in that directory, and every scrape sums the files of all processes;
- read at scrape time by the process that answers: runs by status (the in-memory run index),
  queue depth per tag (the durable consumers of the work stream; a tag without one shows its
  PENDING runs), workers, dead letters, runs waiting on tags no worker serves.

Tags chosen by callers become labels only through `TagLabels` (`labels.py`): known tags by
name, the rest as `other`.

A scrape makes three bounded NATS requests (the consumer listing, the registry listing, the
dead-letter stream's info); when NATS cannot answer, `/metrics` is a 503 problem, never a 500.
Nothing here is global: `create_app` builds one `GatewayMetrics` and hands it to what needs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyoco_server.domain.records import WorkerState
from pyoco_server.domain.snapshot import RunStatus
from pyoco_server.gateway.labels import TagLabels
from pyoco_server.ports import Deployment, QueueDepth
from pyoco_server.services.throughput import Throughput

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The Prometheus text format that `GatewayMetrics.render` writes."""

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client's own variable: it chooses file-backed values when the module is imported."""

UNMATCHED = "unmatched"
"""`operation_id` of a request that matched no operation of openapi.yaml."""

RunCounts = Callable[[], Mapping[str, int]]
"""Runs by status, from the gateway's in-memory run index."""

_ALIVE = frozenset({WorkerState.RUNNING, WorkerState.IDLE})


def multiprocess_dir(environ: Mapping[str, str]) -> Path | None:
    """The directory of prometheus-client's multiprocess mode, when `environ` sets one.

    prometheus-client reads the same variable when it is imported, so the gateway must follow
    it rather than a setting of its own.
    """
    value = environ.get(MULTIPROC_DIR_VARIABLE, "").strip()
    return Path(value) if value else None


def status_class(status: int | None) -> str:
    """`2xx`, `4xx`, `5xx`… for an HTTP status; a request that sent no response is a 5xx."""
    return f"{status // 100}xx" if status is not None else "5xx"


class GatewayMetrics:
    """The gateway's metrics: counted as requests come, rendered with a scrape's readings."""

    def __init__(
        self,
        *,
        multiprocess_dir: Path | None = None,
        run_counts: RunCounts | None = None,
        tags: TagLabels | None = None,
        stale_runs: Callable[[], int] | None = None,
        history: Throughput | None = None,
    ) -> None:
        """Create the metrics of one gateway process.

        Args:
            multiprocess_dir: prometheus-client's multiprocess directory (see
                `multiprocess_dir()`); None when this process is the only one.
            run_counts: runs by status at scrape time; None leaves `pyoco_runs` out.
            tags: how tags become labels; None shows every tag by name (tests only).
            stale_runs: RUNNING runs with a stale heartbeat whose job is still queued (the
                reaper's count); None leaves `pyoco_runs_stale` out.
            history: the last hour's throughput and latency (`GET /metrics/history`), which
                the submits counted here also feed; None keeps one that sees only those.
        """
        self.history = history if history is not None else Throughput()
        self._run_counts = run_counts
        self._stale_runs = stale_runs
        self._tags = tags
        # In multiprocess mode the values live in files and are read back from there, so the
        # metrics must not also be registered where this process's scrape would count them.
        registry: CollectorRegistry | None = None
        if multiprocess_dir is None:
            registry = CollectorRegistry()
            self._counted: Collector = registry
        else:
            self._counted = _all_processes(multiprocess_dir)
        self._durations = Histogram(
            "pyoco_http_request_duration_seconds",
            "Time from receiving an HTTP request to sending the last byte of the response.",
            ["operation_id", "status_class"],
            registry=registry,
        )
        self._submitted = Counter(
            "pyoco_runs_submitted",
            "Runs accepted by this deployment's gateways, by tag.",
            ["tag"],
            registry=registry,
        )
        # Each series by its labels, as `labels()` finds it (a lock and a tuple on every call).
        # As many as prometheus-client keeps: operations by status, and the tags' labels.
        self._request_series: dict[tuple[str, int | None], Any] = {}
        self._submitted_series: dict[str, Any] = {}

    def submitted(self, tag: str) -> None:
        """Count a run accepted for `tag` (call once the job is queued)."""
        self.history.submitted(tag)
        label = self._tags.label(tag) if self._tags else tag
        series = self._submitted_series.get(label)
        if series is None:
            series = self._submitted_series[label] = self._submitted.labels(label)
        series.inc()

    def observe_request(self, operation_id: str, status: int | None, seconds: float) -> None:
        """Record one HTTP request's duration."""
        series = self._request_series.get((operation_id, status))
        if series is None:
            series = self._durations.labels(operation_id, status_class(status))
            self._request_series[operation_id, status] = series
        series.observe(seconds)

    def render(self, deployment: Deployment) -> bytes:
        """Every series in the Prometheus text format (`CONTENT_TYPE`)."""
        counted = [_without_created(family) for family in self._counted.collect()]
        unserved: dict[str, int] = {}
        if self._tags is not None:
            unserved = self._tags.unserved(queue.tag for queue in deployment.queues)
        families = [*counted, *scrape_families(deployment, self._run_counts, unserved)]
        if self._tags is not None:
            families.append(_unserved_family(unserved))
        if self._stale_runs is not None:
            families.append(
                GaugeMetricFamily(
                    "pyoco_runs_stale",
                    "RUNNING or CANCELLING runs whose heartbeat is stale while their job is still "
                    "queued (they wait for a worker of their tag); counted by this gateway's "
                    "reaper at its last round.",
                    value=self._stale_runs(),
                )
            )
        return generate_latest(_Families(families))


def _all_processes(directory: Path) -> Collector:
    """The counted series of every process that writes to `directory`, summed."""
    return MultiProcessCollector(None, path=str(directory))  # type: ignore[no-untyped-call]


def _without_created(family: Metric) -> Metric:
    """`family` without its `_created` samples (the text format would show them as gauges)."""
    family.samples = [sample for sample in family.samples if not sample.name.endswith("_created")]
    return family


class _Families:
    """A collector of metric families that are already built."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        """The families."""
        return iter(self._families)


def scrape_families(
    deployment: Deployment,
    run_counts: RunCounts | None,
    unserved: Mapping[str, int] | None = None,
) -> list[Metric]:
    """The series read at scrape time; `unserved`: PENDING runs of tags without a consumer."""
    families: list[Metric] = [
        *_queue_families(deployment.queues, unserved or {}),
        *_worker_families(deployment.workers),
    ]
    dead = GaugeMetricFamily(
        "pyoco_dead_letters", "Records in the dead-letter stream.", value=deployment.dead_letters
    )
    families.append(dead)
    if run_counts is not None:
        families.append(_run_family(run_counts()))
    return families


def _unserved_family(unserved: Mapping[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "pyoco_runs_unserved",
        "PENDING runs of tags that no worker has registered for or consumed (they wait until "
        "a worker serves the tag); tags not shown by name are counted as `other`.",
        labels=["tag"],
    )
    for label, count in sorted(unserved.items()):
        family.add_metric([label], count)
    return family


def _run_family(counts: Mapping[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "pyoco_runs",
        "Runs by status, from this gateway's index of the runs bucket.",
        labels=["status"],
    )
    for status in sorted({*RunStatus, *counts}):
        family.add_metric([str(status)], counts.get(status, 0))
    return family


def _queue_families(
    queues: Iterable[QueueDepth], unserved: Mapping[str, int]
) -> list[GaugeMetricFamily]:
    """Per tag: its consumer's counts, and for tags with no consumer their PENDING runs."""
    pending = GaugeMetricFamily(
        "pyoco_queue_pending",
        "Jobs of the tag not yet delivered to a worker (for a tag that no worker has consumed, "
        "its PENDING runs).",
        labels=["tag"],
    )
    in_flight = GaugeMetricFamily(
        "pyoco_queue_in_flight",
        "Jobs of the tag delivered to a worker and not yet acknowledged.",
        labels=["tag"],
    )
    redelivered = GaugeMetricFamily(
        "pyoco_queue_redelivered",
        "Jobs of the tag in flight that were delivered more than once.",
        labels=["tag"],
    )
    rows = {queue.tag: [queue.pending, queue.in_flight, queue.redelivered] for queue in queues}
    for label, count in unserved.items():
        rows.setdefault(label, [0, 0, 0])[0] += count
    for tag, (waiting, delivered, again) in sorted(rows.items()):
        pending.add_metric([tag], waiting)
        in_flight.add_metric([tag], delivered)
        redelivered.add_metric([tag], again)
    return [pending, in_flight, redelivered]


def _worker_families(workers: Mapping[WorkerState, int]) -> list[GaugeMetricFamily]:
    alive = sum(count for state, count in workers.items() if state in _ALIVE)
    by_state = GaugeMetricFamily(
        "pyoco_workers", "Kept worker records, by shown state.", labels=["state"]
    )
    for state in WorkerState:
        by_state.add_metric([state.value], workers.get(state, 0))
    return [
        GaugeMetricFamily(
            "pyoco_workers_alive", "Workers whose shown state is RUNNING or IDLE.", value=alive
        ),
        by_state,
    ]


class RequestMetricsMiddleware:
    """ASGI middleware recording each HTTP request's duration by operation and status class.

    It sits just inside the server-error layer, so the problem responses that Connexion's
    exception layer makes are recorded with their status. The operation is the one Connexion's
    routing layer (further in) writes into the scope's `extensions`: that layer passes on a
    shallow copy of the scope, so the dict must exist before it runs for the write to be seen
    here.
    """

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request and record how long it took."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        scope.setdefault("extensions", {})

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, send_and_note)
        finally:
            elapsed = time.perf_counter() - started
            self._metrics.observe_request(operation_id_of(scope), status, elapsed)


def operation_id_of(scope: Mapping[str, Any]) -> str:
    """The operationId Connexion routed the request to, or `UNMATCHED`."""
    routing = scope.get("extensions", {}).get("connexion_routing", {})
    operation_id = routing.get("operation_id") if isinstance(routing, dict) else None
    return operation_id if isinstance(operation_id, str) else UNMATCHED
