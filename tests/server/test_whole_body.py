"""The gateway's body validators read a body whole as Connexion's `wrap_receive` reads it.

`_validators._ReadWhole.wrap_receive` reads the messages of a body of a stated length in a loop
instead of through Connexion's async generator. Here both ways run on the same generated bodies,
cut into messages anywhere, with the Content-Length stated, absent, zero or malformed: both must
refuse alike (the same problem, word for word) or leave the same thing for the handler and replay
the same messages to the application.

The validators keep no state between requests (`STATELESS_VALIDATORS`), so one serves every
request of an operation: requests whose messages interleave through one validator each get their
own body.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from connexion.uri_parsing import OpenAPIURIParser
from connexion.validators import AbstractRequestBodyValidator
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import UploadFile

from pyoco_server.gateway._multipart import PARSED_BODY, PARSED_FORM, RESOLVED_FORM
from pyoco_server.gateway._validators import (
    STATELESS_VALIDATORS,
    LimitedMultiPartValidator,
    StrictJSONBodyValidator,
)

JSON_SCHEMA = {
    "type": "object",
    "required": ["flow_name"],
    "properties": {"flow_name": {"type": "string"}, "params": {"type": "object"}},
    "additionalProperties": False,
}
FORM_SCHEMA = {
    "type": "object",
    "required": ["flow_name"],
    "properties": {
        "workflow": {"type": "string", "format": "binary"},
        "flow_name": {"type": "string", "minLength": 1},
        "timeout_sec": {"type": "number"},
        "params": {"type": "object"},
    },
    "additionalProperties": False,
}
BOUNDARY = "whole-body-boundary"
FORM_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _json_validator() -> StrictJSONBodyValidator:
    return StrictJSONBodyValidator(
        schema=JSON_SCHEMA, required=True, nullable=False, encoding="utf-8", strict_validation=True
    )


def _form_validator() -> LimitedMultiPartValidator:
    definition = {
        "schema": FORM_SCHEMA,
        "encoding": {"params": {"contentType": "application/json"}},
    }
    return LimitedMultiPartValidator(
        schema=FORM_SCHEMA,
        required=True,
        nullable=False,
        encoding="utf-8",
        strict_validation=True,
        uri_parser=OpenAPIURIParser([], definition),
    )


def _messages(body: bytes, cuts: list[int]) -> list[dict[str, Any]]:
    points = sorted({0, len(body), *(cut % (len(body) + 1) for cut in cuts)})
    chunks = [body[a:b] for a, b in itertools.pairwise(points)] or [b""]
    return [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]


def _seen(value: Any) -> Any:
    """What the handler would see of a scope entry, comparable across two parses."""
    if isinstance(value, UploadFile):
        value.file.seek(0)
        return ("file", value.filename, value.file.read(), value.headers.raw)
    if hasattr(value, "multi_items"):
        return [(name, _seen(item)) for name, item in value.multi_items()]
    if isinstance(value, tuple | list):
        return [_seen(item) for item in value]
    if isinstance(value, dict):
        return {name: _seen(item) for name, item in value.items()}
    return value


async def _outcome(
    validator: Any, headers: list[tuple[bytes, bytes]], messages: list[dict[str, Any]], usual: bool
) -> tuple[Any, ...]:
    """Connexion's way (`usual`) or the validator's own: the refusal, or what it leaves."""
    waiting = [dict(message) for message in messages]

    async def receive() -> dict[str, Any]:
        return waiting.pop(0) if waiting else {"type": "http.disconnect"}

    scope: dict[str, Any] = {"type": "http", "headers": headers}
    try:
        if usual:
            wrap = AbstractRequestBodyValidator.wrap_receive(validator, receive, scope=scope)
        else:
            wrap = validator.wrap_receive(receive, scope=scope)
        replay, scope = await wrap
    except Exception as exc:
        return ("refused", type(exc).__name__, getattr(exc, "detail", None) or str(exc))
    replayed = [await replay() for _ in messages]
    left = {key: _seen(scope.get(key)) for key in (PARSED_BODY, PARSED_FORM, RESOLVED_FORM)}
    return ("passed", left, replayed)


def _both_ways(
    make: Any, body: bytes, content_type: str, length: str | None, cuts: list[int]
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    headers = [(b"content-type", content_type.encode())]
    if length is not None:
        headers.append(
            (b"content-length", (str(len(body)) if length == "exact" else length).encode())
        )
    messages = _messages(body, cuts)

    async def run() -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return (
            await _outcome(make(), headers, messages, usual=False),
            await _outcome(make(), headers, messages, usual=True),
        )

    return asyncio.run(run())


LENGTHS = st.sampled_from(["exact", "exact", None, "0", "12x", " 7"])
CUTS = st.lists(st.integers(min_value=0, max_value=5000), max_size=4)
JSON_BODIES = st.one_of(
    st.builds(
        lambda name, params: json.dumps({"flow_name": name, "params": params}).encode(),
        st.text(max_size=8),
        st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    ),
    st.sampled_from(
        [b"", b"null", b"{", b"[]", b'{"flow_name": 1}', b'{"other": "x"}', b"\xff\xfe", b"NaN"]
    ),
    st.binary(max_size=40),
)


@settings(max_examples=150, deadline=None)
@given(body=JSON_BODIES, length=LENGTHS, cuts=CUTS)
def test_a_json_body_reads_as_connexion_reads_it(
    body: bytes, length: str | None, cuts: list[int]
) -> None:
    ours, connexions = _both_ways(_json_validator, body, "application/json", length, cuts)
    assert ours == connexions


def _form(fields: list[tuple[str, str]], workflow: bytes | None) -> bytes:
    part = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name="
    text = "".join(f'{part}"{name}"\r\n\r\n{value}\r\n' for name, value in fields).encode()
    if workflow is not None:
        head = f'{part}"workflow"; filename="flow.yaml"\r\nContent-Type: application/yaml\r\n\r\n'
        text += head.encode() + workflow + b"\r\n"
    return text + f"--{BOUNDARY}--\r\n".encode()


FIELDS = st.lists(
    st.tuples(
        st.sampled_from(["flow_name", "timeout_sec", "params", "workflow", "other"]),
        st.sampled_from(["main", "", "1.5", "x", '{"x": 2}', "[1]", "{", " ", "é"]),
    ),
    max_size=5,
)
FORM_BODIES = st.one_of(
    st.builds(_form, FIELDS, st.one_of(st.none(), st.binary(max_size=30))),
    st.builds(
        lambda form, cut: form[:cut], st.builds(_form, FIELDS, st.none()), st.integers(0, 80)
    ),
    st.sampled_from([b"", b"--" + BOUNDARY.encode() + b"--\r\n", b"garbage"]),
)


@settings(max_examples=150, deadline=None)
@given(
    body=FORM_BODIES,
    content_type=st.sampled_from(
        [FORM_TYPE, "multipart/form-data", FORM_TYPE + "; charset=latin-1"]
    ),
    length=LENGTHS,
    cuts=CUTS,
)
def test_a_form_reads_as_connexion_reads_it(
    body: bytes, content_type: str, length: str | None, cuts: list[int]
) -> None:
    ours, connexions = _both_ways(_form_validator, body, content_type, length, cuts)
    assert ours == connexions


def test_the_examples_above_include_bodies_both_ways_accept() -> None:
    """Else the comparisons above would only ever compare refusals."""
    body = json.dumps({"flow_name": "main", "params": {"x": 1}}).encode()
    ours, _ = _both_ways(_json_validator, body, "application/json", "exact", [3])
    assert ours[0] == "passed"
    assert ours[1][PARSED_BODY] == {"flow_name": "main", "params": {"x": 1}}
    form = _form([("flow_name", "main"), ("params", '{"x": 2}')], b"version: 1\n")
    ours, _ = _both_ways(_form_validator, form, FORM_TYPE, "exact", [10, 50])
    assert ours[0] == "passed"
    assert ours[1][RESOLVED_FORM][0] == {
        "flow_name": "main",
        "params": {"x": 2},
    }


def test_requests_interleaving_through_one_validator_each_get_their_own_body() -> None:
    """One validator serves both, their messages arriving in turn, a part of each at a time."""
    assert isinstance(_json_validator(), STATELESS_VALIDATORS)
    assert isinstance(_form_validator(), STATELESS_VALIDATORS)

    async def send(validator: Any, body: bytes, content_type: str) -> dict[str, Any]:
        messages = _messages(body, list(range(0, len(body), 7)))

        async def receive() -> dict[str, Any]:
            await asyncio.sleep(0)  # the other request goes on meanwhile
            return messages.pop(0)

        headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
        _, scope = await validator.wrap_receive(receive, scope={"type": "http", "headers": headers})
        return scope

    async def run() -> None:
        json_validator, form_validator = _json_validator(), _form_validator()
        names = [f"flow-{i}" for i in range(6)]
        scopes = await asyncio.gather(
            *(
                send(json_validator, json.dumps({"flow_name": name}).encode(), "application/json")
                for name in names
            ),
            *(
                send(form_validator, _form([("flow_name", name)], b"v: 1"), FORM_TYPE)
                for name in names
            ),
        )
        assert [scope[PARSED_BODY]["flow_name"] for scope in scopes[:6]] == names
        assert [scope[RESOLVED_FORM][0]["flow_name"] for scope in scopes[6:]] == names
        assert [dict(scope[PARSED_FORM])["flow_name"] for scope in scopes[6:]] == names

    asyncio.run(run())
