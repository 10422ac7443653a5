"""Fixtures of the server's tests."""

from __future__ import annotations

import pytest

from pyoco_server.services import runs


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """A submit retries its store and its withdrawal at once (the waits are for real flaps)."""
    monkeypatch.setattr(runs, "_RETRY_BACKOFF_SEC", (0.0, 0.0, 0.0))
