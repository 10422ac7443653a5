"""X-Request-ID: assigned or accepted, echoed on every response, carried by every log line."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from pyoco_server.domain.settings import Settings
from pyoco_server.gateway.requests import request_id_of
from pyoco_server.local.natsserver import NatsServer
from pyoco_server.logs import (
    NO_REQUEST,
    JsonFormatter,
    RequestIdFilter,
    current_request_id,
    request_context,
)
from tests.support.processes import Gateway, start_gateway
from tests.support.waiting import wait_until

NEW_ID = re.compile(r"[0-9a-f]{32}")


def test_every_response_gets_an_id(gateway: Gateway) -> None:
    with gateway.client() as client:
        ids = [
            client.get("/health").headers["x-request-id"],
            client.get("/health").headers["x-request-id"],
            client.get("/no/such/path").headers["x-request-id"],
            client.post("/runs", json={"flow_name": 3}).headers["x-request-id"],
        ]
    assert all(NEW_ID.fullmatch(value) for value in ids), ids
    assert len(set(ids)) == len(ids)


VALID = ["abc-123", "x", "a" * 128, "Root=1-5759e988; Parent=53995c3f", "~!@#$%^&*()"]
INVALID = [b"", b"a" * 129, b"caf\xe9", b"tab\there"]


def test_a_valid_client_id_is_echoed_an_invalid_one_replaced(gateway: Gateway) -> None:
    with gateway.client() as client:
        for given in VALID:
            echoed = client.get("/health", headers={"X-Request-ID": given})
            assert echoed.headers["x-request-id"] == given
            problem = client.get("/no/such/path", headers={"X-Request-ID": given})
            assert problem.status_code == 404
            assert problem.headers["x-request-id"] == given
        for invalid in INVALID:
            replaced = client.get("/health", headers={b"X-Request-ID": invalid})
            assert replaced.status_code == 200
            assert NEW_ID.fullmatch(replaced.headers["x-request-id"]), invalid


def test_request_id_of_takes_the_first_header() -> None:
    headers = [(b"x-request-id", b"first"), (b"x-request-id", b"second")]
    assert request_id_of({"type": "http", "headers": headers}) == "first"
    assert NEW_ID.fullmatch(request_id_of({"type": "http", "headers": []}))


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_log_lines_written_for_a_request_carry_its_id(
    settings: Settings, nats_server: NatsServer, tmp_path: Path, log_format: str
) -> None:
    gateway = start_gateway(settings, tmp_path, PYOCO_LOG_FORMAT=log_format)
    try:
        nats_server.stop()
        with gateway.client() as client:
            response = client.get("/metrics", headers={"X-Request-ID": "scrape-42"})
        assert response.status_code == 503
        assert response.headers["x-request-id"] == "scrape-42"
        logged = wait_until(
            lambda: [line for line in gateway.process.log().splitlines() if "scrape-42" in line],
            what="the failed scrape to be logged",
        )
    finally:
        gateway.process.stop()
    assert isinstance(logged, list)
    if log_format == "text":
        assert all(" [scrape-42] " in line for line in logged), logged
        assert any("WARNING" in line and "metrics not collected" in line for line in logged)
        assert " [-] " in gateway.process.log()  # lines outside requests
        return
    records = [json.loads(line) for line in gateway.process.log().splitlines() if line.strip()]
    mine = [record for record in records if record["request_id"] == "scrape-42"]
    assert {record["level"] for record in mine} == {"WARNING"}
    assert "metrics not collected" in mine[0]["message"]
    assert all(record["request_id"] in {"scrape-42", NO_REQUEST} for record in records)


def test_filter_and_formatter_without_a_gateway() -> None:
    record = logging.makeLogRecord({"msg": "hello %s", "args": ("you",), "name": "t"})
    request_filter = RequestIdFilter()
    with request_context("req-1"):
        assert current_request_id() == "req-1"
        assert request_filter.filter(record)
    assert current_request_id() == NO_REQUEST
    line = json.loads(JsonFormatter("svc").format(record))
    assert line["request_id"] == "req-1"
    assert line["message"] == "hello you"
    outside = logging.makeLogRecord({"msg": "x"})
    request_filter.filter(outside)
    assert json.loads(JsonFormatter("svc").format(outside))["request_id"] == NO_REQUEST
