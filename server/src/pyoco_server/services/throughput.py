"""Throughput and latency of the last hour, in memory, for `GET /metrics/history`.

A ring of `BUCKETS` buckets of `INTERVAL_SEC` seconds. Each counts the runs submitted through
this gateway process and the runs that ended (by status) as its run index saw them change, and
keeps a bounded sample of those runs' latencies (end time minus submit time), from which p50
and p95 are read. The sample is a reservoir of `SAMPLE_SIZE` (Vitter's algorithm R): exact up
to that many runs in ten seconds, an unbiased sample beyond, so a bucket costs at most a few
kilobytes whatever the rate. Nothing is stored: a restarted process starts empty, and runs that
ended before it loaded its index are not counted.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable
from typing import Any

from pyoco_server.services.index import Summary

INTERVAL_SEC = 10.0
BUCKETS = 360
SAMPLE_SIZE = 256

_ENDED = {"COMPLETED": "completed", "FAILED": "failed", "CANCELLED": "cancelled"}


@dataclasses.dataclass(slots=True)
class _Bucket:
    index: int
    """Start of the bucket, in intervals since the epoch."""
    submitted: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    seen: int = 0
    """Latencies offered to the sample (kept or not)."""
    sample: list[float] = dataclasses.field(default_factory=list)


class Throughput:
    """The buckets, fed by submits (`submitted`) and by the run index's changes (`changed`).

    `ready` says whether the run index has loaded: until then a run seen ending is one that
    ended before this process started, and is not counted.
    """

    def __init__(
        self,
        ready: Callable[[], bool] = lambda: True,
        *,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
    ) -> None:
        self._ready = ready
        self._clock = clock
        self._random = random.Random(seed)
        self._ring: list[_Bucket | None] = [None] * BUCKETS

    def submitted(self, _tag: str = "") -> None:
        """A run was submitted through this process (the tag is not kept)."""
        self._bucket(self._clock()).submitted += 1

    def changed(self, before: Summary | None, after: Summary | None, _revision: int = 0) -> None:
        """A change the run index applied; counts the runs that have just ended."""
        if after is None or after.status not in _ENDED or not self._ready():
            return
        if before is not None and before.status in _ENDED:
            return  # already ended (a later write of an ended run)
        now = self._clock()
        ended_at = after.end_time if after.end_time is not None else now
        if ended_at < now - INTERVAL_SEC * BUCKETS or ended_at > now + INTERVAL_SEC:
            ended_at = now  # a clock far off: count it now rather than not at all
        bucket = self._bucket(ended_at)
        field = _ENDED[after.status]
        setattr(bucket, field, getattr(bucket, field) + 1)
        self._sample(bucket, max(0.0, (ended_at - after.submitted_at) * 1000.0))

    def _bucket(self, at: float) -> _Bucket:
        index = math.floor(at / INTERVAL_SEC)
        slot = index % BUCKETS
        bucket = self._ring[slot]
        if bucket is None or bucket.index != index:
            bucket = _Bucket(index)
            self._ring[slot] = bucket
        return bucket

    def _sample(self, bucket: _Bucket, latency_ms: float) -> None:
        bucket.seen += 1
        if len(bucket.sample) < SAMPLE_SIZE:
            bucket.sample.append(latency_ms)
            return
        kept = self._random.randrange(bucket.seen)
        if kept < SAMPLE_SIZE:
            bucket.sample[kept] = latency_ms

    def history(self) -> dict[str, Any]:
        """The last hour, oldest bucket first (openapi.yaml `MetricsHistory`)."""
        last = math.floor(self._clock() / INTERVAL_SEC)
        points = []
        for index in range(last - BUCKETS + 1, last + 1):
            bucket = self._ring[index % BUCKETS]
            if bucket is None or bucket.index != index:
                bucket = _Bucket(index)
            points.append(_point(bucket))
        return {"interval_sec": INTERVAL_SEC, "points": points}


def _point(bucket: _Bucket) -> dict[str, Any]:
    ordered = sorted(bucket.sample)
    return {
        "ts": bucket.index * INTERVAL_SEC,
        "submitted": bucket.submitted,
        "completed": bucket.completed,
        "failed": bucket.failed,
        "cancelled": bucket.cancelled,
        "latency_p50_ms": _percentile(ordered, 0.50),
        "latency_p95_ms": _percentile(ordered, 0.95),
    }


def _percentile(ordered: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of sorted values; None for none."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1], 3)
