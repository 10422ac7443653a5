"""Fixtures of the CLI tests: a gateway with API keys on and the seed flow.yaml as a file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyoco_server.domain.settings import Settings
from tests.support.flows import FLOW_YAML
from tests.support.processes import Gateway, start_gateway


@pytest.fixture
def auth_gateway(settings: Settings, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway that requires API keys (PYOCO_HTTP_AUTH_MODE=api_key)."""
    gateway = start_gateway(settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key")
    yield gateway
    gateway.process.stop()


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    """The seed README's flow.yaml, written to a temporary directory."""
    path = tmp_path / "flow.yaml"
    path.write_bytes(FLOW_YAML)
    return path
