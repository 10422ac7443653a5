"""The cycle collector's settings for the long-running processes: gateway, worker, run processes.

CPython collects its young generation every 700 container objects allocated and not yet freed.
A request or a run keeps more than that alive for a moment (frames, dicts, futures, the parsed
message), all freed by reference counting when it ends; the count is reached inside nearly every
few requests anyway, and each collection then walks what is young at that moment. A full
collection walks every tracked object: the gateway holds about 76,000 after start-up (modules,
the resolved openapi.yaml, compiled schemas), and one took about 60 ms, a pause for every request
in flight. Measured in docs/performance.md ("the cycle collector").
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
