"""Tags become metric labels only when known (the operator's list, or the default tag and the
tags workers registered for): any other is `other`; runs waiting on tags no worker serves show."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pyoco_server.domain.errors import SettingsError
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway.labels import OTHER, TagLabels
from pyoco_server.gateway.metrics import GatewayMetrics
from pyoco_server.ports import Deployment, QueueDepth
from tests.support.processes import WorkerFactory, start_gateway
from tests.support.waiting import wait_until

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Series:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def by_tag(series: Series, name: str) -> dict[str, float]:
    return {
        dict(labels)["tag"]: value for (found, labels), value in series.items() if found == name
    }


def test_without_a_list_the_default_tag_and_the_registered_tags_are_shown() -> None:
    labels = TagLabels(Settings(), registered=lambda: {"gpu", "cpu"})

    assert [labels.label(tag) for tag in ("default", "gpu", "cpu", "gpu-typo", "x")] == [
        "default",
        "gpu",
        "cpu",
        OTHER,
        OTHER,
    ]


def test_an_operator_list_replaces_the_automatic_one() -> None:
    labels = TagLabels(Settings(metrics_tags=("gpu", "nightly")), registered=lambda: {"cpu"})

    assert [labels.label(tag) for tag in ("gpu", "nightly", "cpu", "default")] == [
        "gpu",
        "nightly",
        OTHER,
        OTHER,
    ]


def test_the_tag_list_takes_tags_only() -> None:
    with pytest.raises(SettingsError, match=r"'a\.b' is not"):
        Settings.from_env({"PYOCO_LOAD_DOTENV": "0", "PYOCO_METRICS_TAGS": "gpu, a.b"})
    assert Settings.from_env({"PYOCO_METRICS_TAGS": " gpu,cpu ,gpu"}).metrics_tags == ("gpu", "cpu")


def test_unserved_runs_are_those_of_tags_with_no_worker_and_no_consumer() -> None:
    pending = {"default": 2, "gpu": 3, "parked": 1, "typo1": 4, "typo2": 5}
    labels = TagLabels(Settings(), pending_by_tag=lambda: pending, registered=lambda: {"gpu"})
    metrics = GatewayMetrics(tags=labels)
    for tag in ("gpu", "typo1", "typo2", "default"):
        metrics.submitted(tag)

    series = parse(metrics.render(Deployment(queues=(QueueDepth("parked", 1, 0, 0),))).decode())

    assert by_tag(series, "pyoco_runs_unserved") == {"default": 2, OTHER: 9}
    assert by_tag(series, "pyoco_runs_submitted_total") == {"gpu": 1, "default": 1, OTHER: 2}


def test_a_gateway_counts_unknown_tags_as_other(
    settings: Settings, tmp_path: Path, start_worker: WorkerFactory
) -> None:
    start_worker(tags=("gpu",), worker_id="gpu").stop()  # registered; its consumer stays
    gateway = start_gateway(settings, tmp_path)  # reads the registry as it starts
    with gateway.client() as client:
        for tag in ("gpu", "gpu", "default", *(f"typo{n}" for n in range(5))):
            response = client.post("/runs", json={"flow_name": "main", "tag": tag})
            assert response.status_code == 201, response.text

        def scraped() -> Series | None:
            series = parse(client.get("/metrics").text)
            return series if by_tag(series, "pyoco_runs_unserved").get(OTHER) == 5 else None

        series = wait_until(scraped, what="the runs in the index")

    assert by_tag(series, "pyoco_runs_submitted_total") == {"gpu": 2, "default": 1, OTHER: 5}
    assert by_tag(series, "pyoco_runs_unserved") == {"default": 1, OTHER: 5}
    assert not [labels for (_, labels) in series if ("tag", "typo1") in labels]
