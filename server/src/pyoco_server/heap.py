"""The cycle collector's settings for the long-running processes: gateway, worker, run processes.

CPython collects its young generation each time 700 more container objects are alive than at
the last pass. A request or a run holds more than that for a moment (frames, dicts, futures,
parsed messages), nearly all freed by reference counting when it ends, so the gateway made a
young pass every 25 requests, walking whatever was in flight. Every tenth young pass walks the
middle generation, and now and then a full collection walks every tracked object: the gateway
holds about 76,000 after start-up (modules, the resolved openapi.yaml, compiled schemas), and
one took about 60 ms, a pause for every request in flight. Measured in docs/performance.md
("the cycle collector").
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 7_000
"""Container allocations (net of frees) that start a young-generation collection (CPython: 700)."""


def settle_after_startup(*, collect: bool = True) -> None:
    """Keep what start-up built out of every later collection, and collect the young less often.

    Call once, when the process has imported and built what it keeps for its life. Garbage is
    collected first, so that none of it is kept for good; `gc.freeze` then moves what remains to
    a permanent generation no collection walks again. Cycles made later are still collected.

    A forked process passes `collect=False`: a collection writes to every object it walks, which
    would copy the memory pages it shares with the process it was forked from. `gc.freeze` alone
    touches only the ends of the generations' lists.
    """
    if collect:
        gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
