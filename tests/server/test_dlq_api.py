"""GET /dlq against the real gateway and NATS: schema, order, filters, paging.

The tests stand in for workers: they publish dead letters straight to `pyoco.dlq.<tag>` with
nats-py (tests/support/nats.py). Redrives are in test_dlq_redrive_api.py.
"""

from __future__ import annotations

import pytest

from pyoco_server.domain.records import DeadLetterReason, Job
from pyoco_server.domain.settings import Settings
from tests.support.dlq import assert_problem, ids, letter, page
from tests.support.nats import delete_messages, publish_dead_letters
from tests.support.processes import Gateway

ITEM_KEYS = {
    "id",
    "reason",
    "error",
    "timestamp",
    "tag",
    "subject",
    "run_id",
    "flow_name",
    "worker_id",
    "num_delivered",
    "payload",
    "redrivable",
}


def test_empty_dead_letter_stream(gateway: Gateway) -> None:
    with gateway.client() as client:
        assert page(client) == {"items": [], "next_cursor": None}
        assert page(client, reason="timeout", tag="default", cursor="5") == {
            "items": [],
            "next_cursor": None,
        }


def test_items_follow_the_schema_newest_first(gateway: Gateway, settings: Settings) -> None:
    job = Job("run-1", "main", "default", ("default",), {"x": 1}, 1.0)
    seqs = publish_dead_letters(
        settings,
        letter(DeadLetterReason.INVALID_JOB, payload="{not json"),
        letter(DeadLetterReason.EXECUTION_ERROR, run_id="run-1", num_delivered=1, job=job),
    )
    with gateway.client() as client:
        body = page(client)
    assert ids(body) == seqs[::-1]
    assert body["next_cursor"] is None
    newest, oldest = body["items"]
    assert set(newest) == ITEM_KEYS, "the job itself is not returned"
    assert newest["redrivable"] is True
    assert newest["run_id"] == "run-1"
    assert newest["reason"] == "execution_error"
    assert oldest["redrivable"] is False
    assert oldest["payload"] == "{not json"


def test_reason_and_tag_filters(gateway: Gateway, settings: Settings) -> None:
    seqs = publish_dead_letters(
        settings,
        letter(DeadLetterReason.FLOW_NOT_FOUND, tag="a"),
        letter(DeadLetterReason.EXECUTION_ERROR, tag="a"),
        letter(DeadLetterReason.FLOW_NOT_FOUND, tag="b"),
        letter(DeadLetterReason.TIMEOUT, tag="b"),
        letter(DeadLetterReason.FLOW_NOT_FOUND, tag="a"),
    )
    with gateway.client() as client:
        assert ids(page(client, reason="flow_not_found")) == [seqs[4], seqs[2], seqs[0]]
        assert ids(page(client, tag="b")) == [seqs[3], seqs[2]]
        assert ids(page(client, reason="flow_not_found", tag="a")) == [seqs[4], seqs[0]]
        assert ids(page(client, reason="max_deliveries_exceeded")) == []
        assert ids(page(client, tag="c")) == []


@pytest.mark.parametrize("params", [{}, {"reason": "flow_not_found"}])
def test_paging_with_the_cursor_reads_every_record_once(
    gateway: Gateway, settings: Settings, params: dict[str, str]
) -> None:
    reasons = [DeadLetterReason.FLOW_NOT_FOUND, DeadLetterReason.EXECUTION_ERROR] * 4
    seqs = publish_dead_letters(settings, *(letter(reason) for reason in reasons[:7]))
    wanted = [
        seq
        for seq, reason in zip(seqs, reasons, strict=False)
        if params.get("reason") in (None, reason.value)
    ]
    seen: list[int] = []
    cursor: str | None = None
    with gateway.client() as client:
        for _ in range(10):
            body = page(client, limit=3, **params, **({"cursor": cursor} if cursor else {}))
            assert len(body["items"]) <= 3
            seen += ids(body)
            cursor = body["next_cursor"]
            if cursor is None:
                break
    assert seen == wanted[::-1]


def test_a_page_reads_a_bounded_number_of_records(gateway: Gateway, settings: Settings) -> None:
    rare = publish_dead_letters(settings, letter(DeadLetterReason.TIMEOUT))[0]
    publish_dead_letters(settings, *(letter(DeadLetterReason.EXECUTION_ERROR) for _ in range(210)))
    last = rare + 210
    with gateway.client() as client:
        first = page(client, reason="timeout", limit=1)
        assert first == {"items": [], "next_cursor": str(last - 200)}, "200 records read"
        second = page(client, reason="timeout", limit=1, cursor=first["next_cursor"])
    assert ids(second) == [rare]
    assert second["next_cursor"] is None


def test_deleted_records_are_skipped(gateway: Gateway, settings: Settings) -> None:
    seqs = publish_dead_letters(settings, *(letter(DeadLetterReason.TIMEOUT) for _ in range(4)))
    delete_messages(settings.nats_url, settings.dlq_stream, seqs[1], seqs[3])
    with gateway.client() as client:
        assert ids(page(client)) == [seqs[2], seqs[0]]
        assert ids(page(client, limit=1, cursor=str(seqs[3]))) == [seqs[2]]


def test_records_that_do_not_decode_are_shown_not_redrivable(
    gateway: Gateway, settings: Settings
) -> None:
    seqs = publish_dead_letters(
        settings,
        ("pyoco.dlq.t1", b'{"reason": "timeout", "tag": "t1", "timestamp": 5}'),
        ("pyoco.dlq.t2", b"\xff not json"),
    )
    with gateway.client() as client:
        body = page(client)
        assert ids(body) == seqs[::-1]
        garbage, partial = body["items"]
        assert garbage["reason"] == "invalid_job"
        assert garbage["tag"] == "t2"
        assert garbage["payload"] == "\ufffd not json"
        assert garbage["timestamp"] > 0
        assert partial["reason"] == "timeout"
        assert partial["tag"] == "t1"
        assert partial["timestamp"] == 5
        assert "asyncapi.yaml" in partial["error"]
        assert not garbage["redrivable"]
        assert not partial["redrivable"]
        assert ids(page(client, reason="timeout")) == [seqs[0]]
        assert_problem(client.post(f"/dlq/{seqs[0]}/redrive"), 409, "not_redrivable")


@pytest.mark.parametrize(
    "params",
    [
        {"reason": "bored"},
        {"tag": "a.b"},
        {"limit": "0"},
        {"limit": "201"},
        {"cursor": "x"},
        {"cursor": "-1"},
        {"cursor": "1" * 21},
    ],
)
def test_listing_with_bad_parameters_is_400(gateway: Gateway, params: dict[str, str]) -> None:
    with gateway.client() as client:
        assert_problem(client.get("/dlq", params=params), 400)
