"""Tiny task callables used by the README's flow.yaml and by the tests."""

from __future__ import annotations


def add_one(x: int) -> int:
    """Return `x + 1`."""
    return x + 1


def to_text(add_one: int) -> str:
    """Return the result of `add_one` as text."""
    return str(add_one)


def fail(x: int) -> int:
    """Raise `ValueError` (a task that always fails)."""
    raise ValueError(f"boom: x was {x}")


def echo(x: object) -> object:
    """Return `x` unchanged."""
    return x


def non_json(x: int) -> set[int]:
    """Return a set, which JSON cannot carry as such."""
    return {x, x + 1}
