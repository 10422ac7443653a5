"""Runs' task graphs (`GET /runs/{run_id}/graph`): the flow's shape with each task's live state.

For a flow.yaml run the shape comes from its stored flow.yaml (read by SHA-256 from the
workflow store, parsed, and kept per SHA-256 in a small LRU cache, so a dashboard opening the
graph of many runs of one flow parses it once). Tasks the snapshot has that the graph does not
name are added as nodes without edges. A run resolved by name on the workers, or whose file is
no longer stored, has only the snapshot's tasks, without edges (`complete: false`).
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pyoco_server.domain.errors import InvalidWorkflow
from pyoco_server.domain.snapshot import RunSnapshot, TaskState
from pyoco_server.domain.taskgraph import TaskGraph, flow_graph
from pyoco_server.domain.workflow import Workflow

log = logging.getLogger(__name__)

CACHE_SIZE = 256
"""Flow graphs kept, by flow.yaml SHA-256."""

ReadText = Callable[[str], Awaitable[bytes | None]]
"""The stored flow.yaml of a SHA-256, or None when it is not stored."""
Parse = Callable[[bytes], Awaitable[Workflow]]
"""Parse a flow.yaml (off the event loop)."""


class RunGraphs:
    """Builds the graph of a run from its snapshot and its stored flow.yaml."""

    def __init__(self, read_text: ReadText, parse: Parse, cache_size: int = CACHE_SIZE) -> None:
        self._read_text = read_text
        self._parse = parse
        self._cache: collections.OrderedDict[str, TaskGraph] = collections.OrderedDict()
        self._cache_size = cache_size

    async def graph(self, snapshot: RunSnapshot) -> dict[str, Any]:
        """The run's graph (openapi.yaml `RunGraph`)."""
        shape = None
        if snapshot.workflow_yaml_sha256 is not None:
            shape = await self._shape(snapshot.workflow_yaml_sha256)
        nodes = list(shape.nodes) if shape is not None else []
        drawn = set(nodes)
        nodes += [name for name in snapshot.tasks if name not in drawn]
        return {
            "run_id": snapshot.run_id,
            "status": snapshot.status.value,
            "nodes": [
                {"name": name, "state": snapshot.tasks.get(name, TaskState.PENDING).value}
                for name in nodes
            ],
            "edges": [
                {"source": source, "target": target}
                for source, target in (shape.edges if shape is not None else ())
            ],
            "complete": shape is not None,
        }

    async def _shape(self, sha256: str) -> TaskGraph | None:
        shape = self._cache.get(sha256)
        if shape is not None:
            self._cache.move_to_end(sha256)
            return shape
        raw = await self._read_text(sha256)
        if raw is None:
            return None
        try:
            shape = flow_graph(await self._parse(raw))
        except InvalidWorkflow as exc:  # accepted once, so only a parser change gets here
            log.warning("stored flow.yaml %s no longer parses: %s", sha256, exc)
            return None
        self._cache[sha256] = shape
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return shape
