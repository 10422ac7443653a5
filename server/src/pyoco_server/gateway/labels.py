"""Tags as metric labels: a bounded set, so that callers cannot inflate the series by tag.

A submit may name any tag. A metric labelled by the raw tag would grow a series per tag anyone
ever typed, in every gateway's memory and in Prometheus, so tags are shown only when they are
known: those the operator lists (`PYOCO_METRICS_TAGS`), or, without a list, the default tag and
the tags of the worker registry. Everything else is counted as `other`.

The same knowledge tells which tags no worker has ever served: runs waiting on such a tag never
start, and `pyoco_runs_unserved` shows them (a tag counts as served once a worker registered for
it, or its durable consumer exists: a worker created it).

The registry's tags come from the gateway's view of it (`WorkerView`, a feed of the workers
bucket), so a new worker's tag is shown as soon as it registers, without reading the bucket.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Collection, Iterable, Mapping

from pyoco_server.domain.settings import Settings

OTHER = "other"
"""The label of every tag that is not shown by name."""

PendingByTag = Callable[[], Mapping[str, int]]
"""PENDING runs by tag, from the gateway's run index."""

RegisteredTags = Callable[[], Collection[str]]
"""The tags the worker registry holds now, from the gateway's view of it (`WorkerView.tags`)."""


class TagLabels:
    """Maps tags to metric labels and finds the runs waiting on tags no worker serves."""

    def __init__(
        self,
        settings: Settings,
        pending_by_tag: PendingByTag | None = None,
        registered: RegisteredTags = frozenset,
    ) -> None:
        self._listed = frozenset(settings.metrics_tags)
        self._default = settings.default_tag
        self._pending_by_tag = pending_by_tag
        self._registered = registered

    def label(self, tag: str) -> str:
        """`tag` if it is shown by name, else `OTHER`."""
        if self._listed:
            return tag if tag in self._listed else OTHER
        return tag if tag == self._default or tag in self._registered() else OTHER

    def unserved(self, consumer_tags: Iterable[str]) -> dict[str, int]:
        """PENDING runs of tags with no worker record and no consumer, by label."""
        if self._pending_by_tag is None:
            return {}
        served = {*self._registered(), *consumer_tags}
        waiting: collections.Counter[str] = collections.Counter()
        for tag, count in self._pending_by_tag().items():
            if tag not in served:
                waiting[self.label(tag)] += count
        return dict(waiting)
