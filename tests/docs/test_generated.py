"""docs/config.md and docs/api.md are exactly what their generators write (tools/docgen)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from pyoco_server.domain.settings import Settings
from tests.support.processes import ROOT
from tools.docgen import api, config


@pytest.mark.parametrize(("page", "render"), [("config.md", config.render), ("api.md", api.render)])
def test_the_page_is_regenerated(page: str, render: object) -> None:
    assert callable(render)
    assert (ROOT / "docs" / page).read_text() == render(), (
        f"docs/{page} is stale: run `uv run nox -s generate` and commit it"
    )


def test_every_setting_is_on_the_config_page() -> None:
    text = (ROOT / "docs" / "config.md").read_text()
    for field in dataclasses.fields(Settings):
        assert f"| `{field.metadata['env']}` |" in text


def test_a_setting_without_its_description_stops_the_generator() -> None:
    fields = {field.metadata["env"]: field for field in dataclasses.fields(Settings)}
    documented = [name for name in fields if name != "PYOCO_NATS_URL"]
    with pytest.raises(SystemExit, match="PYOCO_NATS_URL"):
        config._check(fields, documented)


def test_every_error_reason_has_advice() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    for code in ("queue_full", "submit_outcome_unknown", "execution_error", "lost"):
        assert f"| `{code}` |" in text


def test_every_variable_the_code_reads_is_on_the_config_page() -> None:
    """`PYOCO_*` names in the packages' code are variables, or the default names of streams."""
    streams = {"PYOCO_WORK", "PYOCO_DLQ", "PYOCO_LOGS", "PYOCO_WHEEL_HISTORY"}
    text = (ROOT / "docs" / "config.md").read_text()
    for package in ("server/src", "worker/src", "cli/src"):
        for path in (ROOT / package).rglob("*.py"):
            for name in set(re.findall(r"\b_?PYOCO_[A-Z0-9_]*[A-Z0-9]\b", path.read_text())):
                assert name in streams or f"| `{name}` |" in text, (name, path)
