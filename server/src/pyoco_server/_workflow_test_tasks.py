"""The demo tasks of the README's flow.yaml and of docs/flow-yaml.md.

The README's (and the original's) flow is `add_one >> to_text`; the fan-out/fan-in example of
docs/flow-yaml.md is `add_one >> (double & square) >> total` (`total` runs `add`).

The module keeps its name so that the seed's flow.yaml runs as written.
"""

from __future__ import annotations


def add_one(x: int) -> int:
    """Return `x + 1`."""
    return x + 1


def to_text(add_one: int) -> str:
    """Return the result of `add_one` as text."""
    return str(add_one)


def double(n: int) -> int:
    """Return `2 * n`."""
    return 2 * n


def square(n: int) -> int:
    """Return `n * n`."""
    return n * n


def add(a: int, b: int) -> int:
    """Return `a + b`."""
    return a + b
