"""flow.yaml parsing is bounded: libyaml's parser, nodes counted while composing, every hostile
file a 422; and the gateway parses off its event loop, so it keeps answering meanwhile."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import yaml

from pyoco_server.domain import workflow
from pyoco_server.domain.errors import InvalidWorkflow
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.workflow import parse_workflow
from tests.support.processes import Gateway

DEFAULTS = "flow:\n  graph: a\n  defaults:\n    v: "
NESTED = "flow:\n  graph: a\n  defaults:\n    v:\n"

HOSTILE = {
    "5000-digit integer": DEFAULTS + "1" * 5000,
    "5000-digit tagged integer": DEFAULTS + "!!int '" + "9" * 5000 + "'",
    "float that is not one": DEFAULTS + "!!float abc",
    "float too big for a float": DEFAULTS + "!!float " + ":".join(["59"] * 400) + ".5",
    "huge float": DEFAULTS + "!!float '" + "9" * 400 + "'",
    "month 13": DEFAULTS + "2001-13-45",
    "hour 99": DEFAULTS + "2001-01-01 99:00:00",
    "timestamp that is not one": DEFAULTS + "!!timestamp nonsense",
    "integer that is not one": DEFAULTS + "!!int 0x",
    "bool that is not one": DEFAULTS + "!!bool maybe",
    "bad base64": DEFAULTS + "!!binary '@@@'",
    "python object": DEFAULTS + "!!python/object/apply:os.system ['true']",
    "unknown tag": DEFAULTS + "!custom 1",
    "unhashable key": DEFAULTS + "{[1]: 2}",
    "unhashable set member": DEFAULTS + "!!set {? [1] : null}",
    "merge of a scalar": "flow: {<<: 1}",
    "ordered map of scalars": DEFAULTS + "!!omap [1]",
    "deep flow nesting": DEFAULTS + "[" * 5000 + "]" * 5000,
    "deep block nesting": NESTED + "".join("  " * (i + 3) + "- \n" for i in range(300)),
    "deep mapping nesting": DEFAULTS + "{a: " * 3000 + "1" + "}" * 3000,
    "recursive alias": "a: &a [*a]",
    "recursive mapping": "a: &a {b: *a}",
    "undefined alias": "a: *nope",
    "duplicate anchor": "a: &x 1\nb: &x 2",
    "alias bomb": "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
    + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcd", "bcde", strict=True)
    )
    + "f: [*e, *e]",
    "120,000 values": DEFAULTS + "[" + ",".join("1" * 120_000) + "]",
    "control character": DEFAULTS + "\x00",
    "two documents": "a: 1\n---\nb: 2",
    "unknown YAML version": "%YAML 9.9\n---\na: 1",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=list(HOSTILE))
def test_every_hostile_file_is_an_invalid_workflow(text: str) -> None:
    with pytest.raises(InvalidWorkflow):
        parse_workflow((text + "\n").encode())


def test_the_node_budget_is_spent_while_composing(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object) -> None:
        raise AssertionError("an over-budget file was constructed")

    monkeypatch.setattr(yaml.constructor.BaseConstructor, "construct_document", never)

    with pytest.raises(InvalidWorkflow) as refused:
        parse_workflow(HOSTILE["120,000 values"].encode())
    assert refused.value.reason == "too_complex"
    with pytest.raises(InvalidWorkflow, match="more than 100000 values"):
        parse_workflow(HOSTILE["alias bomb"].encode())


def test_aliases_count_their_subtree_at_every_use() -> None:
    # 10 uses of a 10,000-node list: 100,010 values once expanded, from a file of 40 kB.
    items = ", ".join(["x"] * 9_999)
    raw = f"a: &a [{items}]\nb: [{', '.join(['*a'] * 10)}]\n"

    with pytest.raises(InvalidWorkflow, match="more than 100000 values"):
        parse_workflow(raw.encode())


def test_libyaml_parses_where_pyyaml_has_it() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml here")
    assert issubclass(workflow._Loader, yaml.CSafeLoader)
    raw = b"flow:\n  graph: a\n  defaults: {x: [1, 2]}\ntasks:\n  a: {callable: 'm:f'}\n"
    assert parse_workflow(raw).defaults == {"x": [1, 2]}


def test_hostile_files_are_422_at_the_gateway(gateway: Gateway) -> None:
    picked = ["5000-digit integer", "month 13", "timestamp that is not one", "deep flow nesting"]
    with gateway.client() as client:
        for name in picked:
            response = client.post(
                "/runs/yaml",
                files={"workflow": ("flow.yaml", HOSTILE[name].encode())},
                data={"flow_name": "main"},
            )
            assert response.status_code == 422, (name, response.text)
            assert response.headers["content-type"] == "application/problem+json"


PROBE_INTERVAL_SEC = 0.01
"""Between two probes of /health (a monitor probes now and then, not in a tight loop)."""


def largest_flow(limit: int, variant: int = 0) -> bytes:
    """A valid flow.yaml of `limit` bytes whose defaults hold one value per line.

    Each `variant` is another file of the same size (the gateway keeps the files it parsed, so a
    file sent again would not be parsed again).
    """
    head = f"# {variant:08d}\ntasks:\n  a: {{callable: 'tests.support.tasks:echo'}}\n"
    head += "flow:\n  graph: a\n  defaults:\n    x:\n"
    lines = (limit - len(head)) // len("      - 1\n")
    return (head + "      - 1\n" * lines).encode()


async def _health_while_parsing(url: str, flows: list[bytes]) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    async with (
        httpx.AsyncClient(base_url=url, timeout=60) as submitter,
        httpx.AsyncClient(base_url=url, timeout=10) as prober,
    ):
        await prober.get("/health")

        async def upload(flow: bytes) -> int:
            response = await submitter.post(
                "/runs/yaml", files={"workflow": ("flow.yaml", flow)}, data={"flow_name": "m"}
            )
            return response.status_code

        parsing = [asyncio.create_task(upload(flow)) for flow in flows]
        while not all(task.done() for task in parsing):
            started = time.perf_counter()
            assert (await prober.get("/health")).status_code == 200
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(PROBE_INTERVAL_SEC)
        return latencies, [task.result() for task in parsing]


@pytest.mark.serial  # a latency bound: a test beside it on the 2 cores would be measured too
def test_health_answers_within_50_ms_while_four_largest_files_parse(gateway: Gateway) -> None:
    limit = Settings().workflow_yaml_max_bytes
    for round_ in range(2):  # the first round also starts the parser processes
        flows = [largest_flow(limit, variant=round_ * 4 + n) for n in range(4)]
        assert all(len(flow) > limit - 16 for flow in flows)
        latencies, statuses = asyncio.run(_health_while_parsing(gateway.url, flows))

        assert statuses == [201] * 4
        assert max(latencies) < 0.050, f"/health took up to {max(latencies) * 1000:.0f} ms"
        assert len(latencies) >= 5, "the uploads ended before /health was probed"
