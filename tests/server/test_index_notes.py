"""The gateway tells its run index the run ids it makes, so their first change is not looked up."""

from __future__ import annotations

import asyncio

import pytest

from bench._asgi import lifespan, post
from bench.submits import JSON
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import create_app
from pyoco_server.jetstream import NatsBackend
from pyoco_server.services.index import RunIndex, Summary

RUNS = 20


def test_the_runs_a_gateway_submits_are_not_looked_up_in_its_index(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index is told each id before the run's job is queued: whichever comes first, the
    submit's answer or the run's first change, no run is looked up."""
    puts: list[str] = []
    lookups: list[str] = []
    all_seen = asyncio.Event()
    put, row = RunIndex.put, RunIndex._row

    def counted_put(index: RunIndex, summary: Summary, revision: int, *code: object) -> object:
        puts.append(summary.run_id)
        if len(puts) == RUNS:
            all_seen.set()
        return put(index, summary, revision, *code)  # type: ignore[arg-type]

    def counted_row(index: RunIndex, run_id: str) -> object:
        lookups.append(run_id)
        return row(index, run_id)

    monkeypatch.setattr(RunIndex, "put", counted_put)
    monkeypatch.setattr(RunIndex, "_row", counted_row)
    app = create_app(settings, NatsBackend(settings, "index-notes"))

    async def submit() -> None:
        async with lifespan(app):
            for _ in range(RUNS):
                assert await post(app, JSON.path, JSON.body, JSON.content_type) == 201
            await asyncio.wait_for(all_seen.wait(), 10)

    asyncio.run(submit())
    assert len(puts) == RUNS
    assert lookups == []
