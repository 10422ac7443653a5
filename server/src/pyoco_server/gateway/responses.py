"""Success replies in the (body, status, headers) shape Connexion expects.

Operations document both `application/json` and `application/problem+json`, so Connexion needs
the content type spelled out on every success.
"""

from __future__ import annotations

from typing import Any

Reply = tuple[Any, int, dict[str, str]]


def json_reply(body: Any, status: int = 200, **headers: str) -> Reply:
    """A JSON success reply."""
    return body, status, {"Content-Type": "application/json", **headers}
