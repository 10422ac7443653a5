"""The in-memory backend's "connection": up or down, as a test decides."""

from __future__ import annotations

import asyncio

from pyoco_server.domain.errors import BackendUnavailable


class Link:
    """Whether the backend answers; while down, every port raises `BackendUnavailable`."""

    def __init__(self) -> None:
        self.down: BackendUnavailable | None = None
        self.up = asyncio.Event()
        self.up.set()

    def check(self) -> None:
        """Raise the outage, if there is one."""
        if self.down is not None:
            raise self.down

    def cut(self, detail: str = "the in-memory backend is down (a test cut it)") -> None:
        """Start an outage."""
        self.down = BackendUnavailable(detail)
        self.up.clear()

    def restore(self) -> None:
        """End the outage."""
        self.down = None
        self.up.set()
