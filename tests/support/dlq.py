"""The dead-letter API as its tests use it: sample dead letters, pages, problem answers."""

from __future__ import annotations

import time
from typing import Any

import httpx

from pyoco_server.domain.records import DeadLetter, DeadLetterReason

PROBLEM = "application/problem+json"


def letter(reason: DeadLetterReason, tag: str = "default", **fields: Any) -> DeadLetter:
    """A dead letter of `reason` on `tag`, recorded now."""
    return DeadLetter(
        reason=reason,
        error=f"{reason.value} happened",
        timestamp=time.time(),
        tag=tag,
        subject=f"pyoco.work.{tag}",
        **fields,
    )


def page(client: httpx.Client, **params: Any) -> dict[str, Any]:
    """GET /dlq with `params`: the page (checked to be a 200 JSON answer)."""
    response = client.get("/dlq", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> list[int]:
    """The ids of a page's dead letters, in order."""
    return [int(item["id"]) for item in body["items"]]


def assert_problem(response: httpx.Response, status: int, reason: str | None = None) -> None:
    """`response` is a problem document with `status` (and `reason`, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    if reason is not None:
        assert response.json()["reason"] == reason
