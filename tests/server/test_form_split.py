"""The multipart validator splits a form as Connexion's `FormDataValidator._parse` does, and
tells when the handler's request would split it alike (`ConnexionRequest._split_form_files`).

`_validators.LimitedMultiPartValidator._parse` reads what it needs of the schema once
(`FormPlan`) instead of on every request; here Connexion's own `_parse` runs on the same
generated forms, and both must hand the same fields to the URI parser and give the same data.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncGenerator
from typing import Any

from connexion.lifecycle import ConnexionRequest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData, UploadFile

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
    fields, files, _ = FormPlan.of(SCHEMA, 1024).split(form)
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
    fields, _, uploads = FormPlan.of(SCHEMA, 1024).split(form)
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
