"""The gateway keeps the flow.yaml files it validated, by content: a repeat is not parsed again,
and a hit never skips a check that depends on the caller or the deployment."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.formparsers import MultiPartParser
from starlette.testclient import TestClient

from pyoco_server.domain.errors import InvalidWorkflow
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.workflow import Workflow, parse_workflow
from pyoco_server.gateway import create_app, workflows
from pyoco_server.gateway._formparse import WholeBodyForm
from pyoco_server.gateway._formplan import FormPlan
from pyoco_server.gateway.workflows import ParsedFlows, WorkflowParser
from pyoco_server.memory import MemoryBackend
from tests.support.flows import FLOW_YAML, flow_yaml


class Counting:
    """`parse_workflow`, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, raw: bytes) -> Workflow:
        self.calls += 1
        return parse_workflow(raw)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counting:
    counting = Counting()
    monkeypatch.setattr(workflows, "parse_workflow", counting)
    return counting


def parse(parser: WorkflowParser, raw: bytes) -> Workflow:
    return asyncio.run(parser.parse(raw))


def test_a_file_parsed_before_is_answered_from_memory(parses: Counting) -> None:
    parser = WorkflowParser(1)
    first = parse(parser, FLOW_YAML)
    again = parse(parser, FLOW_YAML)
    other = parse(parser, flow_yaml("add_one"))
    assert again is first
    assert other is not first
    assert parses.calls == 2


def test_an_invalid_file_is_refused_every_time(parses: Counting) -> None:
    parser = WorkflowParser(1)
    for _ in range(2):
        with pytest.raises(InvalidWorkflow):
            parse(parser, b"version: 1\nflow: [\n")
    assert parses.calls == 2


def workflow(n: int, size: int) -> tuple[bytes, Workflow]:
    """A digest and a parsed file counting `size` bytes."""
    parsed = parse_workflow(flow_yaml("add_one", defaults=f"{{x: {n}}}"))
    return n.to_bytes(4, "big"), dataclasses.replace(parsed, size=size)


def test_the_least_recently_used_go_first_within_both_bounds() -> None:
    kept = ParsedFlows(max_files=2, max_bytes=100)
    (a, wa), (b, wb), (c, wc) = workflow(1, 10), workflow(2, 10), workflow(3, 10)
    kept.put(a, wa)
    kept.put(b, wb)
    assert kept.get(a) is wa  # now the most recently used
    kept.put(c, wc)
    assert (kept.get(a), kept.get(b), kept.get(c)) == (wa, None, wc)
    (big, wbig) = workflow(4, 95)
    kept.put(big, wbig)  # over 100 bytes with the others: they go
    assert (len(kept), kept.get(big)) == (1, wbig)
    (huge, whuge) = workflow(5, 101)
    kept.put(huge, whuge)  # larger than the whole bound: never kept
    assert (len(kept), kept.get(huge)) == (1, None)


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The real gateway on the in-memory backend, keys off."""
    settings = Settings()
    with TestClient(create_app(settings, MemoryBackend(settings))) as test_client:
        yield test_client


def submit(client: TestClient, raw: bytes, params: dict[str, Any]) -> Any:
    return client.post(
        "/runs/yaml",
        files={"workflow": ("flow.yaml", raw)},
        data={"flow_name": "main", "params": json.dumps(params)},
    )


def test_a_hit_still_refuses_what_a_miss_refuses(client: TestClient) -> None:
    dangerous = flow_yaml("add_one").replace(
        b"pyoco_server._workflow_test_tasks:add_one", b"subprocess:getoutput"
    )
    for _ in range(2):
        response = submit(client, dangerous, {})
        assert (response.status_code, response.json()["reason"]) == (422, "callable_not_allowed")
    assert submit(client, FLOW_YAML, {"x": 2}).status_code == 201
    response = submit(client, FLOW_YAML, {"y": 2})  # a hit: its params are still checked
    assert (response.status_code, response.json()["reason"]) == (422, "unknown_params")


def test_a_multipart_body_is_parsed_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connexion's validator parses the form; the handler takes it from the request's scope
    (`_multipart.PARSED_FORM`) instead of parsing the body a second time."""
    parses = Counting()
    streamed = MultiPartParser.parse

    async def counted(parser: Any) -> Any:
        parses.calls += 1
        return await streamed(parser)

    whole = WholeBodyForm._items

    def counted_whole(parser: Any, *args: Any) -> Any:
        parses.calls += 1
        return whole(parser, *args)

    plain = FormPlan.simple_form

    def counted_plain(plan: Any, *args: Any) -> Any:
        read = plain(plan, *args)
        parses.calls += read is not None  # else the form is read in full, and counted there
        return read

    monkeypatch.setattr(MultiPartParser, "parse", counted)
    monkeypatch.setattr(WholeBodyForm, "_items", counted_whole)
    monkeypatch.setattr(FormPlan, "simple_form", counted_plain)
    response = submit(client, FLOW_YAML, {"x": 2})
    assert response.status_code == 201, response.text
    assert response.json()["flow_name"] == "main"
    assert parses.calls == 1
