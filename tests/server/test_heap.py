"""The cycle collector's settings (pyoco_server/heap.py), and the processes that apply them.

Each check of the settings runs in a fresh interpreter: they are process-wide.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from pyoco_server import heap
from pyoco_server.gateway import app as gateway_app
from pyoco_worker import service

PROBE = textwrap.dedent(
    """
    import gc, json, sys, weakref
    from pyoco_server import heap

    class Node:
        pass

    def cycle():
        node = Node()
        node.self = node
        return weakref.ref(node)

    before = cycle()
    heap.settle_after_startup(collect=sys.argv[1] == "collect")
    frozen = gc.get_freeze_count()
    after = cycle()
    gc.collect()
    print(json.dumps({
        "young_threshold": gc.get_threshold()[0],
        "others": list(gc.get_threshold()[1:]),
        "frozen": frozen,
        "cycle_before_kept": before() is not None,
        "cycle_after_kept": after() is not None,
    }))
    """
)


def probe(mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, timeout=60
    )
    return dict(json.loads(done.stdout))


def test_start_up_is_frozen_after_a_collection_and_later_cycles_are_still_collected() -> None:
    found = probe("collect")
    assert found["young_threshold"] == heap.YOUNG_THRESHOLD
    assert found["others"] == [10, 10]  # CPython's own for the older generations
    assert found["frozen"] > 1_000
    assert not found["cycle_before_kept"], "garbage from start-up must not be frozen"
    assert not found["cycle_after_kept"], "a cycle made later must still be collected"


def test_a_forked_process_freezes_without_collecting() -> None:
    found = probe("no-collect")
    assert found["young_threshold"] == heap.YOUNG_THRESHOLD
    assert found["cycle_before_kept"], "no collection before the freeze (it would copy pages)"
    assert not found["cycle_after_kept"]


def test_the_gateway_server_settles_its_heap_once_its_app_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    built = object()
    monkeypatch.setattr(gateway_app, "create_app", lambda *a, **k: calls.append("app") or built)
    monkeypatch.setattr(heap, "settle_after_startup", lambda **k: calls.append("settle"))
    monkeypatch.setenv("PYOCO_LOAD_DOTENV", "0")
    assert gateway_app.app_from_env() is built
    assert calls == ["app", "settle"]


def test_the_worker_settles_its_heap_before_its_loop_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    calls: list[str] = []

    def loop(coroutine: Any) -> None:
        coroutine.close()
        calls.append("loop")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(service.uvloop, "run", loop)
    monkeypatch.setattr(heap, "settle_after_startup", lambda **k: calls.append("settle"))
    settings = service.Settings.from_env({"PYOCO_LOAD_DOTENV": "0"})
    service.run(
        settings,
        worker_id="w",
        claim_id=False,
        tags=("default",),
        concurrency=1,
        flow_resolver=None,
    )
    assert calls == ["settle", "loop"]
