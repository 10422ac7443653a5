"""A small server-sent-events reader for tests (events with their arrival time)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx


@dataclasses.dataclass
class Event:
    event: str
    data: dict[str, Any]
    id: str | None
    received_at: float


def events(response: httpx.Response) -> Iterator[Event]:
    """Parse a text/event-stream response as it arrives."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line == "":
            if fields:
                yield Event(
                    fields.get("event", "message"),
                    json.loads(fields.get("data", "{}")),
                    fields.get("id"),
                    time.time(),
                )
            fields = {}
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")
