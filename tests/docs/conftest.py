"""Fixtures of the documentation tests: a scratch directory to run a document's commands in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.docs import Session


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    """A `Session` in a temporary directory; its `up` and workers are stopped afterwards."""
    docs = Session(tmp_path)
    yield docs
    docs.stop()
