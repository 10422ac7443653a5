"""The names pyoco_client exports are deliberate: adding or removing one changes this test."""

from __future__ import annotations

import pyoco_client


def test_exported_names() -> None:
    assert pyoco_client.__all__ == [
        "AsyncClient",
        "Client",
        "ClientError",
        "ConnectionFailed",
        "InputError",
        "LogEvent",
        "ProblemError",
        "RunIdPrefixError",
        "RunNotFound",
        "TimedOut",
        "WatchEvent",
    ]
    assert pyoco_client.__all__ == sorted(pyoco_client.__all__)
    for name in pyoco_client.__all__:
        assert getattr(pyoco_client, name).__module__.startswith("pyoco_client._")


def test_the_sync_and_async_clients_offer_the_same_operations() -> None:
    def public(cls: type) -> set[str]:
        return {name for name in dir(cls) if not name.startswith("_")}

    assert public(pyoco_client.AsyncClient) - {"aclose"} == public(pyoco_client.Client) - {"close"}
