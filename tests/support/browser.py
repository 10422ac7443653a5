"""A real Chromium for the dashboard's tests: Debian's, driven by Playwright for Python.

`playwright install` downloads browsers, which this project never does: Playwright is pointed
at the system's Chromium (`PYOCO_TEST_CHROMIUM`, else /usr/bin/chromium; .ci/run installs it
with apt). One browser serves a whole test session; each test gets a fresh context (no shared
storage), with every console error and uncaught page error collected so a test can assert
that there were none, and every dialog (`alert`, `confirm`) recorded and dismissed.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page

from tests.support.processes import ROOT

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
"""Where the tests save a picture of each view (git ignores artifacts/)."""


def chromium_path() -> str | None:
    """The Chromium to drive, or None when this machine has none."""
    configured = os.environ.get("PYOCO_TEST_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


@dataclasses.dataclass
class Tab:
    """A page in its own browser context, with what it reported."""

    context: BrowserContext
    page: Page
    errors: list[str]
    dialogs: list[str]

    def screenshot(self, name: str) -> Path:
        """Save the page as artifacts/screenshots/NAME.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def open_tab(browser: Browser, *, width: int = 1280, height: int = 800, **options: object) -> Tab:
    """A new context and page; console errors, page errors and dialogs are recorded."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)  # type: ignore[arg-type]
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))

    def on_dialog(dialog: object) -> None:
        dialogs.append(getattr(dialog, "message", ""))
        dialog.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", on_dialog)
    page.set_default_timeout(15_000)
    return Tab(context, page, errors, dialogs)
