"""The multipart validator splits a form as Connexion's `FormDataValidator._parse` does, and
tells when the handler's request would split it alike (`ConnexionRequest._split_form_files`).

`_validators.LimitedMultiPartValidator._parse` reads what it needs of the schema once
(`FormPlan`) instead of on every request; here Connexion's own `_parse` runs on the same
generated forms, and both must hand the same fields to the URI parser and give the same data.
A plain form is cut and split in one step (`FormPlan.simple_form`); here that step and the
whole parser followed by `split` read the same generated forms, plain or not.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncGenerator
from typing import Any

from connexion.lifecycle import ConnexionRequest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException

from pyoco_server.gateway._formplan import FormPlan
from pyoco_server.gateway._validators import (
    LimitedMultiPartValidator,
    MultiPartFormDataValidator,
)

SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "count": {"type": "integer"},
        "file": {"type": "string", "format": "binary"},
        "encoded": {"type": "string", "format": "base64"},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
        "texts": {"type": "array", "items": {"type": "string"}},
        "object": {"type": "object"},
    },
}
NAMES = [*SCHEMA["properties"], "other", "more"]  # type: ignore[misc]


class Recording:
    """A URI parser that notes the fields it is given and resolves them to themselves."""

    def __init__(self) -> None:
        self.given: list[tuple[str, list[Any]]] = []

    def resolve_form(self, form_data: dict[str, Any]) -> dict[str, Any]:
        self.given = [(name, list(values)) for name, values in form_data.items()]
        return {name: ("resolved", tuple(values)) for name, values in form_data.items()}


def _upload(content: bytes) -> UploadFile:
    return UploadFile(file=io.BytesIO(content), filename="f", size=len(content))


class Connexions(MultiPartFormDataValidator):
    """Connexion's multipart validator, its parser answering with a given form."""

    form = FormData()

    @property
    def _form_parser_cls(self) -> Any:
        form = self.form

        class Given:
            def __init__(self, headers: Any, stream: Any) -> None:
                pass

            async def parse(self) -> FormData:
                return form

        return Given


async def _nothing() -> AsyncGenerator[bytes, None]:
    yield b""


def connexions_split(form: FormData) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """What Connexion's `_parse` gives the URI parser, and the data it returns."""
    recording = Recording()
    validator = Connexions(
        schema=SCHEMA, encoding="utf-8", strict_validation=False, uri_parser=recording
    )
    validator.form = form
    data = asyncio.run(validator._parse(_nothing(), scope={"type": "http", "headers": []}))
    return recording.given, list(data.items())


def our_split(form: FormData) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    fields, files, _ = FormPlan.of(SCHEMA, 1024).split(form.multi_items())
    resolved = Recording().resolve_form(fields)
    return list(fields.items()), list({**resolved, **files}.items())


def handlers_split(form: FormData) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """The fields and files Connexion's request splits the form into for the handler."""
    request = ConnexionRequest.__new__(ConnexionRequest)

    class Form:
        async def form(self) -> FormData:
            return form

    request._starlette_request = Form()
    request.uri_parser = Recording()
    asyncio.run(request._split_form_files())
    return dict(request.uri_parser.given), dict(request._files)


values = st.one_of(st.text(max_size=5), st.binary(max_size=5).map(_upload))


@settings(max_examples=300, deadline=None)
@given(items=st.lists(st.tuples(st.sampled_from(NAMES), values), max_size=8))
def test_generated_forms_split_alike(items: list[tuple[str, Any]]) -> None:
    """Fields and files, one or many of each name, known or not, files where fields go."""
    form = FormData(items)
    assert our_split(form) == connexions_split(form)
    # The files are left for the handler exactly when its request splits the form alike.
    fields, _, uploads = FormPlan.of(SCHEMA, 1024).split(form.multi_items())
    handlers_fields, handlers_files = handlers_split(form)
    if uploads is None:
        assert fields != handlers_fields
    else:
        assert (fields, uploads) == (handlers_fields, handlers_files)


def test_the_plan_reads_the_schema_once_per_schema_object() -> None:
    class Limited(LimitedMultiPartValidator):
        pass

    def plan() -> FormPlan:
        validator = Limited(schema=SCHEMA, encoding="utf-8", strict_validation=False)
        return validator._plan

    assert plan() is plan()
    assert plan().files == ("file",)
    assert plan().fields == ("text", "count", "encoded", "files", "texts", "object")
    assert dict(plan().file_kinds) == {"file": "single", "encoded": "single", "files": "many"}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(NAMES), max_size=5))
def test_strict_validation_refuses_the_names_connexions_refuses(names: list[str]) -> None:
    """The plan's names decide without Connexion's sets; a refusal is still Connexion's."""
    body = dict.fromkeys(names, "")
    outcomes = []
    for validator in (
        LimitedMultiPartValidator(schema=SCHEMA, encoding="utf-8", strict_validation=True),
        MultiPartFormDataValidator(schema=SCHEMA, encoding="utf-8", strict_validation=True),
    ):
        try:
            validator._validate_params_strictly(body)
            outcomes.append(None)
        except Exception as exc:  # compared, whatever it is
            outcomes.append((type(exc), str(exc)))
    assert outcomes[0] == outcomes[1]
    declared = set(names) <= set(SCHEMA["properties"])  # type: ignore[arg-type]
    assert (outcomes[0] is None) == declared


BOUNDARY = "split-boundary"
PLAIN_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
PART_VALUES = st.sampled_from(
    [b"", b"x", b"12345678", b"123456789", "é".encode(), b"\xff", b"a\r\nb"]
)


def _body(parts: list[tuple[str, bytes | None, bytes]], closed: bool = True) -> bytes:
    """A form as clients send it: (name, file name or None for a field, data) per part."""
    body = b""
    for name, filename, data in parts:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'.encode()
        if filename is not None:
            head += b'; filename="' + filename + b'"\r\nContent-Type: text/plain'
        body += head + b"\r\n\r\n" + data + b"\r\n"
    return body + (f"--{BOUNDARY}--\r\n".encode() if closed else b"")


def _seen(items: Any) -> Any:
    if isinstance(items, UploadFile):
        return ("file", items.filename, items.file.getvalue(), items.headers.raw)
    if isinstance(items, dict):
        return {name: _seen(value) for name, value in items.items()}
    if isinstance(items, list | tuple):
        return [_seen(item) for item in items]
    return items


def _read_in_full(plan: FormPlan, content_type: str, body: bytes) -> Any:
    """The items and split of the usual way: the whole parser, then `split`."""
    try:
        items = plan.whole(Headers({"content-type": content_type})).form_of(body).multi_items()
    except MultiPartException:
        return None
    return items, plan.split(items)


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(
        st.tuples(
            st.sampled_from(NAMES),
            st.one_of(st.none(), st.sampled_from([b"f.yaml", "é".encode(), b"\xff"])),
            PART_VALUES,
        ),
        max_size=5,
    ),
    closed=st.booleans(),
    content_type=st.sampled_from([PLAIN_TYPE, PLAIN_TYPE + "; charset=latin-1"]),
)
def test_a_plain_form_reads_in_one_step_as_in_full(
    parts: list[tuple[str, bytes | None, bytes]], closed: bool, content_type: str
) -> None:
    """`simple_form` gives what the whole parser and `split` give, or leaves the form to them."""
    plan = FormPlan.of(SCHEMA, 8)
    body = _body(parts, closed)
    plain = plan.simple_form(content_type, body)
    if plain is not None:
        assert _seen(plain) == _seen(_read_in_full(plan, content_type, body))
    names = [name for name, _, _ in parts]
    expected_plain = (
        closed
        and content_type == PLAIN_TYPE
        and len(set(names)) == len(names)
        and all(
            (name in ("text", "count", "texts", "object") and filename is None)
            or (name == "file" and filename is not None)
            for name, filename, _ in parts
        )
        and all(len(data) <= 8 for _, filename, data in parts if filename is None)
        and all(b"\xff" not in data for _, filename, data in parts if filename is None)
        and all(filename != b"\xff" for _, filename, _ in parts)
    )
    assert (plain is not None) == expected_plain


def test_the_benchmarks_flow_yaml_submit_is_a_plain_form() -> None:
    """The submit of the seed's flow.yaml as a browser sends it reads in one step."""
    schema = {
        "type": "object",
        "properties": {
            "workflow": {"type": "string", "format": "binary"},
            "flow_name": {"type": "string"},
            "params": {"type": "object"},
        },
    }
    body = _body(
        [
            ("flow_name", None, b"main"),
            ("params", None, b'{"x":1}'),
            ("workflow", b"flow.yaml", b"version: 1\n"),
        ]
    )
    plain = FormPlan.of(schema, 1024).simple_form(PLAIN_TYPE, body)
    assert plain is not None
    items, (fields, files, uploads) = plain
    assert fields == {"flow_name": ["main"], "params": ['{"x":1}']}
    assert files == {"workflow": ""}
    assert uploads is not None
    assert uploads["workflow"][0].file.getvalue() == b"version: 1\n"
    assert [name for name, _ in items] == ["flow_name", "params", "workflow"]
