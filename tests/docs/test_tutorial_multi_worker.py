"""docs/tutorial_multi_worker.md runs as written, and does what it says."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.support.docs import Session, blocks
from tests.support.processes import ROOT


def _documents(session: Session) -> list[dict[str, Any]]:
    """The JSON documents the commands printed (first lines included)."""
    found = []
    for out in session.outputs:
        for text in (out, out.splitlines()[0] if out.strip() else ""):
            try:
                document = json.loads(text)
            except ValueError:
                continue
            found.append(document)
            break
    return found


def test_the_multi_worker_tutorial(session: Session) -> None:
    session.play(blocks(ROOT / "docs" / "tutorial_multi_worker.md"), "tutorial")

    assert len(session.workers) == 3
    runs = [doc for doc in _documents(session) if "params" in doc and "worker_id" in doc]
    on_gpu = [run for run in runs if run["params"] == {"name": "gpu"}]
    assert on_gpu[-1]["worker_id"] == "gpu-1", on_gpu
    counted = [run for run in runs if run["flow_name"] == "count_lines"]
    assert counted[-1]["status"] == "COMPLETED", counted[-1]
    assert counted[-1]["attempt"] == 2
    assert counted[-1]["attempts"][0]["error_reason"] == "execution_error"
    metrics = next(out for out in session.outputs if out.startswith("# HELP") or "pyoco_" in out)
    assert "pyoco_workers_alive 3.0" in metrics, metrics
    assert "pyoco_dead_letters 0.0" in metrics, metrics
    scrape = yaml.safe_load((session.directory / "prometheus.yml").read_text())
    target = scrape["scrape_configs"][0]["static_configs"][0]["targets"][0]
    assert (
        f"http://{target}{scrape['scrape_configs'][0]['metrics_path']}"
        == "http://127.0.0.1:8000/metrics"
    )
