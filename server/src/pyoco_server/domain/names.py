"""Identifier rules (tags, run ids, flow names), compiled from openapi.yaml's patterns.

The spec's patterns are checked by Connexion with `re.search`, where `$` also matches before a
trailing newline; the gateway and the worker therefore re-check values here with `fullmatch`.
The spec is read the first time a rule is used, not at import.
"""

from __future__ import annotations

import functools
import re

from pyoco_server.contracts import openapi_schema


@functools.cache
def _pattern(schema: str) -> re.Pattern[str]:
    """The pattern of schema `schema` of openapi.yaml, compiled once."""
    return re.compile(openapi_schema(schema)["pattern"])


TAG_RULE = "1-64 letters, digits, '_' or '-'"
WORKER_ID_RULE = "a worker id is 1-128 letters, digits, '_', '-', '=' and inner dots"


def is_tag(value: str) -> bool:
    """True when `value` can be a routing tag (one NATS subject token)."""
    return _pattern("Tag").fullmatch(value) is not None


def is_run_id(value: str) -> bool:
    """True when `value` has the shape of a run id."""
    return _pattern("RunId").fullmatch(value) is not None


def is_flow_name(value: str) -> bool:
    """True when `value` is printable text with a non-blank character."""
    return _pattern("FlowName").fullmatch(value) is not None and len(value) <= 200


def is_worker_id(value: str) -> bool:
    """True when `value` can be a worker id (a key of the registry bucket)."""
    return _pattern("WorkerId").fullmatch(value) is not None
