"""The names pyoco_client exports are deliberate: adding or removing one changes this test."""

from __future__ import annotations

import pyoco_client


def test_exported_names() -> None:
    assert pyoco_client.__all__ == [
        "Client",
        "ClientError",
        "ConnectionFailed",
        "InputError",
        "ProblemError",
        "RunNotFound",
        "TimedOut",
    ]
    assert pyoco_client.__all__ == sorted(pyoco_client.__all__)
    for name in pyoco_client.__all__:
        assert getattr(pyoco_client, name).__module__.startswith("pyoco_client._")
