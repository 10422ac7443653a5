"""What the multipart validator reads of an operation's form schema, read once per schema.

Connexion's `FormDataValidator` reads the schema's properties on every request to split a form
into fields and files, and again to refuse fields it does not declare; `FormPlan` reads them
once (`_validators.LimitedMultiPartValidator` keeps one per schema).
`tests/server/test_form_split.py` runs Connexion's `_parse` and the plan's `split` on the same
generated forms.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from starlette.datastructures import Headers, UploadFile

from pyoco_server.gateway._formparse import (
    WholeBodyForm,
    form_parser,
    simple_delimiter,
    simple_parts,
    simple_upload,
)

Items = list[tuple[str, Any]]
"""A form's fields and files by name, in order (what `FormData.multi_items` gives)."""
Split = tuple[dict[str, list[Any]], dict[str, Any], dict[str, list[UploadFile]] | None]
"""A form's fields, its files as placeholders, and its files if the handler's request splits
alike (`FormPlan.split`)."""


@dataclasses.dataclass(frozen=True)
class FormPlan:
    """What parsing and splitting a form reads of a multipart schema."""

    files: tuple[str, ...]
    """The file properties (`format: binary`), which bound the number of files."""
    fields: tuple[str, ...]
    """The other properties, which bound the number of fields."""
    file_kinds: Mapping[str, str]
    """`single` for a property that is a file, `many` for an array of files."""
    parser: Callable[[Headers, AsyncGenerator[bytes, None]], Any]
    """The form parser (`_formparse.form_parser`) with this schema's limits."""
    whole: Callable[[Headers], WholeBodyForm]
    """The parser of a body read whole, up to `WHOLE_BODY_BYTES`, with the same limits."""
    names: frozenset[str] = frozenset()
    """Every property: a form with other names is refused under strict validation."""
    max_field_bytes: int = 0
    """The most a field's value may hold (a larger one is refused)."""

    @classmethod
    def of(cls, schema: Mapping[str, Any], max_field_bytes: int) -> FormPlan:
        """The plan of `schema`, its fields at most `max_field_bytes` each."""
        properties: Mapping[str, Any] = schema.get("properties", {})
        files = tuple(name for name, spec in properties.items() if spec.get("format") == "binary")
        fields = tuple(name for name in properties if name not in files)
        kinds = {}
        for name, spec in properties.items():
            if _is_file(spec):
                kinds[name] = "single"
            elif _is_file(spec.get("items", {})):
                kinds[name] = "many"
        max_files, max_fields = max(len(files), 1), max(len(fields), 1)
        parser = form_parser(
            max_files=max_files, max_fields=max_fields, max_part_size=max_field_bytes
        )
        whole = functools.partial(
            WholeBodyForm,
            stream=None,
            max_files=max_files,
            max_fields=max_fields,
            max_part_size=max_field_bytes,
        )
        return cls(files, fields, kinds, parser, whole, frozenset(properties), max_field_bytes)

    def split(self, items: Items) -> Split:
        """The form's fields, its files as placeholders, and its files if the handler's alike.

        As Connexion's `FormDataValidator._parse`: files are validated as empty strings (a list
        of them when there are several, or when the schema wants an array, or when a field that
        is not a file was sent as one), and only the fields (each name's values) are resolved.
        The handler's request splits by value (`ConnexionRequest._split_form_files`), which
        agrees when each name holds only files or only text and only file properties hold files:
        only then are the files given (else None).
        """
        grouped: dict[str, list[Any]] = {}
        for name, value in items:
            values = grouped.get(name)
            if values is None:
                grouped[name] = [value]
            else:
                values.append(value)
        fields: dict[str, list[Any]] = {}
        files: dict[str, Any] = {}
        uploads: dict[str, list[UploadFile]] | None = {}
        kinds = self.file_kinds
        for name, values in grouped.items():
            kind = kinds.get(name)
            uploaded = 0  # how many of the values are files
            for value in values:
                if isinstance(value, UploadFile):
                    uploaded += 1
            if kind is None and not isinstance(values[0], UploadFile):
                fields[name] = values
                alike = uploaded == 0
            else:
                files[name] = "" if kind == "single" and len(values) == 1 else [""] * len(values)
                alike = uploaded == len(values)
                if uploads is not None:
                    uploads[name] = values
            if not alike:
                uploads = None
        return fields, files, uploads

    def simple_form(self, content_type: str, body: bytes) -> tuple[Items, Split] | None:
        """A plain form's items and their `split`, in one step; None for any other form.

        A plain form is a simple one (`_formparse.simple_parts`: the heads and Content-Type
        clients send, so UTF-8) of at most one part per name: each field a property that is
        not a file, of valid UTF-8 and within `max_field_bytes`, each file a single-file
        property (`format: binary`), its name valid UTF-8. It is within the limits by
        construction and splits alike. Any other form is read in full (`WholeBodyForm`, then
        `split`); both ways read a plain form alike (`tests/server/test_form_split.py`).
        """
        delimiter = simple_delimiter(content_type)
        max_parts = len(self.fields) + len(self.files)  # one part per declared name at most
        parts = None if delimiter is None else simple_parts(body, delimiter, max_parts)
        if parts is None:
            return None
        items: Items = []
        fields: dict[str, list[Any]] = {}
        files: dict[str, Any] = {}
        uploads: dict[str, list[UploadFile]] = {}
        kinds, texts, binaries = self.file_kinds, self.fields, self.files
        try:
            for raw_name, raw_filename, disposition, part_type, data in parts:
                name = raw_name.decode()
                if name in fields or name in files:
                    return None
                if raw_filename is None:
                    if name in kinds or name not in texts or len(data) > self.max_field_bytes:
                        return None
                    value: Any = data.decode()
                    fields[name] = [value]
                else:
                    if kinds.get(name) != "single" or name not in binaries:
                        return None
                    value = simple_upload(data, raw_filename.decode(), disposition, part_type)
                    files[name] = ""
                    uploads[name] = [value]
                items.append((name, value))
        except UnicodeDecodeError:  # read in full, as latin-1
            return None
        return items, (fields, files, uploads)


def _is_file(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "string" and schema.get("format") in ("binary", "base64")
