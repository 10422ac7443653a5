"""The demo tasks of the README's (and the original's) flow.yaml: `add_one >> to_text`.

The module keeps its name so that the seed's flow.yaml runs as written.
"""

from __future__ import annotations


def add_one(x: int) -> int:
    """Return `x + 1`."""
    return x + 1


def to_text(add_one: int) -> str:
    """Return the result of `add_one` as text."""
    return str(add_one)
