"""How the text of one environment variable becomes a setting: the parsers `Settings` uses.

Each parser takes the raw text and returns the value, or raises ValueError saying what the
variable accepts (`Settings.from_env` adds the variable's name); the first line of its docstring
says what it accepts in docs/config.md. `env` declares a field.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from pyoco_server.domain import names
from pyoco_server.domain.trust import check_operator_modules

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SUBJECT_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_MODULE_PATTERN = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_bool(raw: str) -> bool:
    """A flag: 1/true/yes/on or 0/false/no/off."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected one of 1/true/yes/on or 0/false/no/off")


def positive_float(raw: str) -> float:
    """A finite number above 0 (seconds, mostly)."""
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise ValueError("expected a number greater than 0")
    return value


def non_negative_float(raw: str) -> float:
    """A finite number of 0 or more (0 usually meaning none)."""
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("expected a number of seconds (0 for none)") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError("expected a number of seconds, 0 or more")
    return value


def history(raw: str) -> int:
    """A KV bucket history depth: 1 to 64."""
    value = positive_int(raw)
    if value > 64:
        raise ValueError("expected a whole number from 1 to 64 (JetStream's KV history limit)")
    return value


def positive_int(raw: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("expected a whole number") from None
    if value < 1:
        raise ValueError("expected a whole number of at least 1")
    return value


MIN_MEMORY_LIMIT = 128 * 1024**2
"""The smallest memory limit a run process takes: it maps about 50 MiB before any task runs."""


def memory_limit(raw: str) -> int:
    """Bytes of memory, at least 128 MiB (134217728); 0 for no limit."""
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("expected a whole number of bytes (0 for no limit)") from None
    if value != 0 and value < MIN_MEMORY_LIMIT:
        raise ValueError(
            f"expected 0 (no limit) or at least {MIN_MEMORY_LIMIT} bytes (128 MiB): a run "
            "process maps about 50 MiB before its run starts"
        )
    return value


def pattern(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    """A parser of text that must match `pattern` (described as `what` in the error)."""

    def parse(raw: str) -> str:
        if not pattern.fullmatch(raw):
            raise ValueError(f"expected {what}")
        return raw

    parse.__doc__ = f"Text: {what}."
    return parse


def tag(raw: str) -> str:
    """A routing tag."""
    if not names.is_tag(raw):
        raise ValueError(f"expected a tag of {names.TAG_RULE}")
    return raw


def comma_separated(raw: str) -> tuple[str, ...]:
    """The non-empty items of a comma-separated list, stripped, duplicates dropped."""
    return tuple(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip()))


def rate(raw: str) -> float:
    """A rate a second; 0 means no limit."""
    try:
        return non_negative_float(raw)
    except ValueError:
        raise ValueError("expected a number per second, 0 (no limit) or more") from None


def tags(raw: str) -> tuple[str, ...]:
    """Comma-separated routing tags."""
    found = comma_separated(raw)
    bad = [item for item in found if not names.is_tag(item)]
    if bad:
        raise ValueError(f"expected comma-separated tags of {names.TAG_RULE}; {bad[0]!r} is not")
    return found


def parse_modules(raw: str) -> tuple[str, ...]:
    """Comma-separated module names that may hold task code."""
    modules = comma_separated(raw)
    bad = [module for module in modules if not _MODULE_PATTERN.fullmatch(module)]
    if bad:
        raise ValueError(f"expected comma-separated module names; {', '.join(bad)} is not one")
    never = check_operator_modules(modules)
    if never:
        raise ValueError(
            f"{', '.join(never)}: the standard library and pyoco-server's own packages can never "
            "hold task code"
        )
    return modules


def env_names(raw: str) -> tuple[str, ...]:
    """Comma-separated environment variable names a run may see (never PYOCO_*)."""
    found = comma_separated(raw)
    bad = [name for name in found if not _ENV_NAME.fullmatch(name) or name.startswith("PYOCO_")]
    if bad:
        raise ValueError(
            f"{', '.join(bad)}: expected environment variable names (PYOCO_* are never exposed)"
        )
    return found


def choice(*choices: str) -> Callable[[str], str]:
    """A parser of one of `choices` (case-insensitive)."""

    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return value

    parse.__doc__ = f"One of {', '.join(choices)}."
    return parse


def nats_url(raw: str) -> str:
    """One NATS URL, or several comma-separated."""
    for url in raw.split(","):
        if not re.match(r"^(nats|tls|ws|wss)://[^\s/]+$", url.strip()):
            raise ValueError("expected nats://host:port (comma-separated for several servers)")
    return raw


def env(
    name: str, parse: Callable[[str], Any], *, aliases: tuple[str, ...] = (), **kwargs: Any
) -> Any:
    """Declare a settings field read from environment variable `name` with `parse`.

    `aliases` are older names of the variable, still read when `name` is not set.
    """
    return dataclasses.field(metadata={"env": name, "parse": parse, "aliases": aliases}, **kwargs)


bucket = pattern(_NAME_PATTERN, "a name of letters, digits, '_' and '-'")
prefix = pattern(_SUBJECT_PREFIX_PATTERN, "dot-separated subject tokens such as pyoco.work")
