"""asyncapi.yaml is plain JSON Schema: its examples and the codec's real messages validate as is.

A standard draft-7 validator (AsyncAPI's default schema format is a superset of draft 7) checks
every message example, and payloads the project's own encoders write, with no keyword rewriting.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from pyoco_server.contracts import load_asyncapi, message_payload_schema
from pyoco_server.domain.codec import CANCEL_NOTICE, DEAD_LETTER, JOB, SNAPSHOT, loads
from pyoco_server.domain.records import CancelNotice, DeadLetter, DeadLetterReason, Job
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus

MESSAGES: dict[str, Any] = load_asyncapi()["components"]["messages"]

A_JOB = Job(
    run_id="0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70",
    flow_name="main",
    tag="default",
    tags=("default",),
    params={"x": 1},
    submitted_at=1_764_514_800.25,
    tenant_id="acme",
)
PENDING = RunSnapshot.pending(A_JOB, job_seq=42)


def validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def openapi_only(node: object, path: str = "") -> list[str]:
    """Paths of OpenAPI 3.0 keywords (a boolean `nullable` or exclusive bound) and external refs."""
    if isinstance(node, list):
        return [found for item in node for found in openapi_only(item, path)]
    if not isinstance(node, dict):
        return []
    found = [
        f"{path}/{key}"
        for key, value in node.items()
        if (key in {"nullable", "exclusiveMinimum", "exclusiveMaximum"} and isinstance(value, bool))
        or (key == "$ref" and not str(value).startswith("#/"))
    ]
    return found + [
        hit for key, value in node.items() for hit in openapi_only(value, f"{path}/{key}")
    ]


def test_the_document_has_no_openapi_keywords_and_no_external_refs() -> None:
    assert openapi_only(load_asyncapi()) == []
    assert openapi_only({"a": {"nullable": True, "b": [{"$ref": "./openapi.yaml#/x"}]}}) == [
        "/a/nullable",
        "/a/b/$ref",
    ]


@pytest.mark.parametrize("name", sorted(load_asyncapi()["components"]["schemas"]))
def test_every_schema_is_draft7(name: str) -> None:
    jsonschema.Draft7Validator.check_schema(load_asyncapi()["components"]["schemas"][name])


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_message_has_examples_that_validate(name: str) -> None:
    examples = MESSAGES[name].get("examples", [])
    assert examples, f"message {name} has no examples"
    payload_validator = validator(message_payload_schema(name))
    headers_schema = MESSAGES[name].get("headers")
    for example in examples:
        assert {"name", "summary", "payload"} <= set(example), (name, example)
        payload_validator.validate(example["payload"])
        if "headers" in example:
            assert headers_schema is not None, f"{name} example has headers; none are declared"
            validator(headers_schema).validate(example["headers"])


def test_broken_examples_would_be_caught() -> None:
    pending = MESSAGES["RunSnapshot"]["examples"][0]["payload"]
    payload_validator = validator(message_payload_schema("RunSnapshot"))
    assert pending["start_time"] is None
    payload_validator.validate(pending)
    assert not payload_validator.is_valid({**pending, "status": "DONE"})
    assert not payload_validator.is_valid({**pending, "attempt": -1})
    assert not payload_validator.is_valid({key: pending[key] for key in pending if key != "tag"})


@pytest.mark.parametrize(
    ("message", "raw"),
    [
        ("Job", JOB.encode(A_JOB)),
        ("RunSnapshot", SNAPSHOT.encode(PENDING)),
        ("RunSnapshot", SNAPSHOT.encode(PENDING.claimed("worker-a", 1, 1_764_514_801.0))),
        (
            "RunSnapshot",
            SNAPSHOT.encode(
                PENDING.claimed("worker-a", 1, 1_764_514_801.0).finished(
                    RunStatus.FAILED, 1_764_514_802.0, error="boom", reason="execution_error"
                )
            ),
        ),
        ("CancelNotice", CANCEL_NOTICE.encode(CancelNotice(A_JOB.run_id, 1_764_514_805.0))),
        (
            "DeadLetter",
            DEAD_LETTER.encode(
                DeadLetter(DeadLetterReason.FLOW_NOT_FOUND, "no flow", 1.0, "default", job=A_JOB)
            ),
        ),
    ],
    ids=["job", "pending", "running", "failed", "cancel", "dead-letter"],
)
def test_what_the_codec_writes_validates(message: str, raw: bytes) -> None:
    payload = loads(raw)
    validator(message_payload_schema(message)).validate(payload)
    if message == "RunSnapshot" and payload["status"] == "PENDING":
        assert payload["start_time"] is None  # a null the OpenAPI `nullable` used to hide
