"""Request bodies are limited before they are read: by Content-Length, by counting a chunked one,
and part by part in a multipart form; every refusal is a problem naming the setting.

Against a real gateway process: its memory is read from /proc, and its temporary files (where
Starlette spools uploads) go to a directory of the test's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyoco_server.domain.errors import GatewayBusy
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway.limits import BodyBudget
from tests.support.processes import Gateway, start_gateway
from tests.support.usage import MIB, CountingBody, problem, rss_bytes

JSON = {"content-type": "application/json"}
BOUNDARY = "limits-test-boundary"
WHEEL_LIMIT = 4 * MIB


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "PYOCO_WHEEL_MAX_BYTES": str(WHEEL_LIMIT)}


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    """The gateway's TMPDIR."""
    directory = tmp_path / "gateway-tmp"
    directory.mkdir()
    return directory


@pytest.fixture
def gateway(settings: Settings, tmp_path: Path, spool: Path) -> Iterator[Gateway]:
    gateway = start_gateway(settings, tmp_path, TMPDIR=str(spool))
    yield gateway
    gateway.process.stop()


def json_body(size: int) -> CountingBody:
    return CountingBody(b'{"flow_name": "main", "params": {"blob": "', size, b'"}}')


def wheel_upload(size: int) -> CountingBody:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="wheel"; '
        'filename="big-1.0-py3-none-any.whl"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    return CountingBody(head, size, f"\r\n--{BOUNDARY}--\r\n".encode())


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_64_mib_submit_is_413_without_the_gateway_growing(
    gateway: Gateway, declared: bool
) -> None:
    with gateway.client(timeout=60) as client:
        for _ in range(3):  # warm up the paths a refusal takes
            client.post("/runs", content=b"{}", headers=JSON)
        before = rss_bytes(gateway.process.pid)
        body = json_body(64 * MIB)
        headers = {**JSON, **({"content-length": str(body.length)} if declared else {})}
        response = client.post("/runs", content=iter(body), headers=headers)
        grown = rss_bytes(gateway.process.pid) - before

    detail = problem(response, 413, "payload_too_large")["detail"]
    assert "PYOCO_MAX_RUN_SNAPSHOT_BYTES" in str(detail)
    assert response.headers["connection"] == "close"
    assert grown < 4 * MIB, f"the gateway grew by {grown / MIB:.1f} MiB"
    assert body.sent < 16 * MIB, "the gateway read on past its limit"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_300_mb_upload_is_cut_off_at_the_limit(
    gateway: Gateway, spool: Path, declared: bool
) -> None:
    body = wheel_upload(300 * MIB)
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    if declared:
        headers["content-length"] = str(body.length)
    before = rss_bytes(gateway.process.pid)
    with gateway.client(timeout=60) as client:
        response = client.post("/wheels", content=iter(body), headers=headers)
    grown = rss_bytes(gateway.process.pid) - before

    assert "PYOCO_WHEEL_MAX_BYTES" in str(problem(response, 413, "payload_too_large")["detail"])
    assert body.sent < WHEEL_LIMIT + 16 * MIB, f"the gateway took {body.sent / MIB:.0f} MiB"
    assert grown < WHEEL_LIMIT + 8 * MIB, f"the gateway grew by {grown / MIB:.1f} MiB"
    assert list(spool.iterdir()) == []


def test_a_chunked_submit_within_the_limit_is_accepted(gateway: Gateway) -> None:
    # Connexion alone takes a body without Content-Length for no body ("RequestBody is required").
    with gateway.client() as client:
        response = client.post("/runs", content=iter([b'{"flow_name": ', b'"main"}']), headers=JSON)

    assert response.status_code == 201, response.text


def test_multipart_fields_are_limited_in_size_and_number(gateway: Gateway) -> None:
    flow = {"workflow": ("flow.yaml", b"flow:\n  graph: a\n")}
    field_limit = 2 * Settings().max_run_snapshot_bytes + 64 * 1024
    with gateway.client() as client:
        big_field = client.post(
            "/runs/yaml", files=flow, data={"flow_name": "main", "params": "x" * (field_limit + 1)}
        )
        two_files = client.post(
            "/runs/yaml",
            files=[("workflow", ("a.yaml", b"a")), ("workflow", ("b.yaml", b"b"))],
            data={"flow_name": "main"},
        )
        many_fields = client.post("/runs/yaml", files=flow, data={"flow_name": ["main"] * 50})

    detail = problem(big_field, 413, "payload_too_large")["detail"]
    assert "a form field" in str(detail)
    assert "PYOCO_MAX_RUN_SNAPSHOT_BYTES" in str(detail)
    for refused in (two_files, many_fields):
        assert "workflow" in str(problem(refused, 400, "invalid_multipart")["detail"])


def test_the_body_budget_holds_sizes_and_lets_a_lone_body_through() -> None:
    """`BodyBudget` alone: a body larger than the budget passes when no other is held."""
    budget = BodyBudget(100)
    budget.take(150)  # alone: a body within its operation's limit is always received
    with pytest.raises(GatewayBusy):
        budget.take(1)
    budget.give_back(150)
    budget.take(60)
    budget.take(40)
    with pytest.raises(GatewayBusy) as refused:
        budget.take(1)
    assert refused.value.retry_after == 1
    assert "PYOCO_HTTP_BODIES_MAX_BYTES" in refused.value.detail
    assert budget.held == 100
