"""The whole-body multipart parser answers as Starlette's streaming one (differential tests).

`_formparse.WholeBodyForm` replaces Starlette's `MultiPartParser` for small bodies; every form
here, generated or hand-made, malformed or over a limit, must give the same fields and files or
the same refusal from both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from pyoco_server.gateway import _formparse
from pyoco_server.gateway._formparse import (
    WHOLE_BODY_BYTES,
    WholeBodyForm,
    form_parser,
    simple_items,
)
from pyoco_server.gateway._formplan import FormPlan

LIMITS = {"max_files": 2, "max_fields": 4, "max_part_size": 64}


async def _chunks(body: bytes, size: int) -> AsyncGenerator[bytes, None]:
    for at in range(0, len(body), size):
        yield body[at : at + size]


def parse(parser_class: Any, content_type: str, body: bytes, chunk: int = 7) -> Any:
    """What the parser makes of `body`: its items, or the refusal's message."""
    headers = Headers({"content-type": content_type, "content-length": str(len(body))})
    parser = parser_class(headers, _chunks(body, chunk), **LIMITS)

    async def items() -> Any:
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            return ("refused", str(exc))
        seen = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                content = await value.read()
                seen.append((name, value.filename, value.headers.raw, content))
            else:
                seen.append((name, value))
        return seen

    return asyncio.run(items())


def both(content_type: str, body: bytes) -> Any:
    ours = parse(WholeBodyForm, content_type, body)
    assert ours == parse(MultiPartParser, content_type, body)
    return ours


def encoded(data: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[str, bytes]:
    request = httpx.Request("POST", "http://x/", data=data, files=files)
    return request.headers["content-type"], request.read()


text = st.characters(blacklist_categories=["Cs"])  # what UTF-8 can encode
names = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters='"\\\r\n\x00'),
    min_size=1,
    max_size=8,
)
values = st.text(text, max_size=80)


@settings(max_examples=150, deadline=None)
@given(
    fields=st.dictionaries(names, values, max_size=5),
    files=st.dictionaries(
        names,
        st.tuples(names, st.binary(max_size=300), st.sampled_from(["application/yaml", ""])),
        min_size=1,  # without a file, httpx sends the form url-encoded
        max_size=3,
    ),
)
def test_generated_forms_parse_alike(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> None:
    """Fields, files, their order, and the refusals for too many parts or too big a field."""
    content_type, body = encoded(fields, {k: (n, c, t or "") for k, (n, c, t) in files.items()})
    both(content_type, body)


SEED = (
    b"--b0\r\n"
    b'Content-Disposition: form-data; name="flow_name"\r\n\r\nmain\r\n'
    b"--b0\r\n"
    b'Content-Disposition: form-data; name="workflow"; filename="flow.yaml"\r\n'
    b"Content-Type: application/yaml\r\n\r\n"
    b"flow:\n  graph: a >> b\r\n"
    b"--b0--\r\n"
)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data; boundary=b0", SEED),
        ('multipart/form-data; boundary="b0"', SEED),  # a quoted boundary
        ("Multipart/Form-Data; Boundary=b0", SEED),
        (
            "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
            SEED.replace(b"--b0", b"------WebKitFormBoundary7MA4YWxkTrZu0gW"),
        ),
        ("multipart/form-data; boundary=b0", SEED + b"epilogue"),
        ("multipart/form-data; boundary=b0", b"preamble\r\n" + SEED),
        ("multipart/form-data; boundary=b0; charset=latin-1", SEED.replace(b"main", b"m\xe9")),
        ("multipart/form-data; boundary=b0", SEED.replace(b"main", b"m\xff")),  # not UTF-8
        (  # escapes and parameters in another order: the full Content-Disposition parser
            "multipart/form-data; boundary=b0",
            SEED.replace(b'name="flow_name"', b'name="fl\\"ow"; x=1'),
        ),
        (  # a Windows path as the file name
            "multipart/form-data; boundary=b0",
            SEED.replace(b'filename="flow.yaml"', b'filename="C:\\\\d\\\\flow.yaml"'),
        ),
        ("multipart/form-data; boundary=b0", SEED.replace(b'; name="flow_name"', b"")),
        ("multipart/form-data; boundary=b0", b"--b0\r\n\r\nno headers\r\n--b0--\r\n"),
        ("multipart/form-data", SEED),  # no boundary
        ("multipart/form-data; boundary=b0", b"--b0--\r\n"),  # no parts
        ("multipart/form-data; boundary=b0", b"--b0\r\n" + b"x" * 40 + b"\r\n--b0--"),
        (  # header names in another case, a Content-Type before the Content-Disposition
            "multipart/form-data; boundary=b0",
            SEED.replace(b"Content-Disposition", b"content-disposition").replace(
                b'Content-Disposition: form-data; name="workflow"; filename="flow.yaml"\r\n'
                b"Content-Type: application/yaml",
                b"Content-Type: application/yaml\r\n"
                b'Content-Disposition: form-data; name="workflow"; filename="flow.yaml"',
            ),
        ),
        (  # blanks around header values, an empty Content-Type, a header more
            "multipart/form-data; boundary=b0",
            SEED.replace(
                b"Content-Type: application/yaml", b"Content-Type: \t application/yaml "
            ).replace(
                b'Disposition: form-data; name="flow_name"',
                b'Disposition:  form-data; name="flow_name"',
            ),
        ),
        (
            "multipart/form-data; boundary=b0",
            SEED.replace(b"Content-Type: application/yaml", b"Content-Type: "),
        ),
        (
            "multipart/form-data; boundary=b0",
            SEED.replace(b"Content-Type: application/yaml", b"Content-Type: text/x\r\nX-More: 1"),
        ),
        (  # a field over max_part_size
            "multipart/form-data; boundary=b0",
            b'--b0\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + b"x" * 65 + b"\r\n--b0--",
        ),
    ],
)
def test_hand_made_forms_parse_alike(content_type: str, body: bytes) -> None:
    both(content_type, body)


@pytest.mark.parametrize(
    "body",
    [
        SEED[: SEED.index(b"--b0--")],  # no closing delimiter
        b"garbage without any delimiter",
        SEED.replace(b"\r\n\r\nmain", b"main"),  # no blank line after the headers
    ],
)
def test_truncated_or_garbled_forms_are_refused(body: bytes) -> None:
    """Stricter than Starlette where it would accept a cut body: refused, never half-read."""
    assert parse(WholeBodyForm, "multipart/form-data; boundary=b0", body)[0] == "refused"


def test_big_or_unannounced_bodies_stream_through_starlette() -> None:
    factory = form_parser(**LIMITS)
    small = Headers({"content-type": "multipart/form-data; boundary=b", "content-length": "10"})
    big = Headers({"content-length": str(WHOLE_BODY_BYTES + 1)})
    assert isinstance(factory(small, _chunks(b"", 1)), WholeBodyForm)
    assert isinstance(factory(big, _chunks(b"", 1)), MultiPartParser)
    assert isinstance(factory(Headers({}), _chunks(b"", 1)), MultiPartParser)


HEADS = [
    b'Content-Disposition: form-data; name="a"\r\n\r\n',
    b'Content-Disposition: form-data; name="b"\r\n\r\n',
    b'Content-Disposition: form-data; name="f"; filename="x.yaml"\r\n\r\n',
    b'Content-Disposition: form-data; name="f"; filename="x"\r\nContent-Type: text/x\r\n\r\n',
    b'content-disposition: form-data; name="a"\r\n\r\n',  # not simple
    b"\r\n",  # no headers
    b'Content-Disposition: form-data; name="a"\r\n',  # no blank line
]
DATA = [b"", b"x", b"--b0", b"--b0--", b"\r\n--b0", b"\r\n", b"\r\n\r\n", b"y" * 70, b"--", b"\xff"]
PADDING = [b"", b" ", b"\t ", b"x", b"\r\n", b"ab"]  # after a delimiter, before its line break
ENDS = [b"--", b"--\r\n", b"--\r\n--b0\r\nafter", b"", b"\r\n"]


@settings(max_examples=600, deadline=None)
@given(
    preamble=st.sampled_from([b"", b"preamble\r\n", b"\r\n"]),
    parts=st.lists(
        st.tuples(
            st.sampled_from(PADDING),
            st.sampled_from([b"\r\n", b""]),
            st.sampled_from(HEADS),
            st.sampled_from(DATA),
        ),
        max_size=5,
    ),
    end=st.sampled_from(ENDS),
)
def test_the_simple_reading_reads_as_the_full_one_or_leaves_the_form_to_it(
    preamble: bytes, parts: list[tuple[bytes, bytes, bytes, bytes]], end: bytes
) -> None:
    """Forms made to tell the two apart: data that starts with the delimiter or holds line
    breaks, padding or no line break after a delimiter, heads that are not simple or not closed,
    too many or too big parts, no closing delimiter, an epilogue that holds a delimiter."""
    delimiter = b"--b0"
    body = preamble + delimiter
    for padding, line_break, head, data in parts:
        body += padding + line_break + head + data + b"\r\n" + delimiter
    body += end
    simple = simple_items(body, delimiter, "utf-8", **LIMITS)
    if simple is None:
        return
    whole = WholeBodyForm(Headers({}), None, **LIMITS)
    assert _plain_items(simple) == _plain_items(whole._any_items(body, delimiter, "utf-8"))


def _plain_items(items: list[tuple[str, Any]]) -> list[Any]:
    return [
        (name, value.filename, value.headers.raw, value.file.getvalue(), value.size)
        if isinstance(value, UploadFile)
        else (name, value)
        for name, value in items
    ]


def test_the_forms_clients_send_are_read_the_simple_way() -> None:
    """Else the test above would compare nothing: what browsers, curl and httpx send."""
    for content_type, body in [
        ("multipart/form-data; boundary=b0", SEED),
        encoded({"flow_name": "main", "params": '{"x": 1}'}, {"workflow": ("f", b"v: 1", "")}),
    ]:
        delimiter = b"--" + content_type.split("boundary=")[1].encode()
        assert simple_items(body, delimiter, "utf-8", **LIMITS) is not None


class _CountedHeads:
    """A part heads' pattern that counts the heads it is asked to match."""

    def __init__(self, pattern: Any) -> None:
        self.pattern = pattern
        self.matched = 0

    def match(self, *args: Any) -> Any:
        self.matched += 1
        return self.pattern.match(*args)


def test_a_body_of_many_parts_is_refused_after_a_few(monkeypatch: pytest.MonkeyPatch) -> None:
    """However many parts a body holds, the simple readings look at no more heads than it may
    have parts before leaving the form to the full reading, which refuses it as Starlette's."""
    part = b'--b0\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n'
    body = part * 10_000 + b"--b0--\r\n"
    counted = _CountedHeads(_formparse._SIMPLE_PART)
    monkeypatch.setattr(_formparse, "_SIMPLE_PART", counted)
    assert simple_items(body, b"--b0", "utf-8", **LIMITS) is None
    assert counted.matched == LIMITS["max_fields"] + LIMITS["max_files"]
    plan = FormPlan.of({"type": "object", "properties": {"f": {"type": "string"}}}, 64)
    counted.matched = 0
    assert plan.simple_form("multipart/form-data; boundary=b0", body) is None
    assert counted.matched <= 1
    assert both("multipart/form-data; boundary=b0", body)[0] == "refused"
