"""Fixtures of the dashboard's browser tests: one Chromium per session, a fresh tab per test.

Each test also gets the real stack of tests/conftest.py (nats-server, gateway, workers).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.browser import Tab, chromium_path, open_tab


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for this package's tests, closed when they are done.

    Not session-wide: while Playwright's sync API is started, the main thread has a running
    event loop, so every later test that calls `asyncio.run` would fail.
    """
    path = chromium_path()
    if path is None and os.environ.get("CI"):
        pytest.fail("CI must run the browser tests: install Chromium (see .ci/run)")
    if path is None:
        pytest.skip(
            "no Chromium on this machine (apt-get install chromium; .ci/run installs it, so CI "
            "never skips these)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path)
        yield launched
        launched.close()


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    opened = open_tab(browser)
    yield opened
    opened.context.close()


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    # Heartbeats every second keep the streams' liveness visible within a test; a cancelled
    # run's process is terminated a second after it ignored the cooperative cancel.
    return {**settings_env, "PYOCO_SSE_HEARTBEAT_SEC": "1", "PYOCO_CANCEL_GRACE_PERIOD_SEC": "1"}
