"""A multipart/form-data parser for small bodies, read whole (RFC 7578).

Starlette's parser (python-multipart, a byte-by-byte state machine with a callback per event)
was the largest cost of a flow.yaml submit beyond the JSON path's. A submit's body is small and
bounded (`limits.body_limits`), so this one reads it whole and splits it with `bytes.split`
when its parts have the heads clients send (`simple_parts`), with `bytes.find` part by part
otherwise. Bodies that are larger or announce no length (a wheel upload) stream through
Starlette's parser instead (`form_parser`): they may be far bigger than memory should hold.

It answers exactly as Starlette's parser would (a differential test checks it on generated and
malformed forms): the same fields and files in the same order, values decoded with the body's
charset (latin-1 when undecodable), the same `MultiPartException` messages for the same limits.
It is stricter in one way: a body that does not end with the closing delimiter is refused.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import AsyncGenerator, Callable
from typing import Any

from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

WHOLE_BODY_BYTES = 1024 * 1024
"""Bodies up to this size (by their Content-Length) are read whole and parsed here."""

_SIMPLE_DISPOSITION = re.compile(rb'form-data; name="([^"\\]*)"(?:; filename="([^"\\]*)")?')
"""The Content-Disposition browsers, curl and httpx send; anything else is parsed in full."""
_SIMPLE_PART = re.compile(
    rb'Content-Disposition: (form-data; name="([^"\\\r\n]*)"(?:; filename="([^"\\\r\n]*)")?)'
    rb"(?:\r\nContent-Type: ((?! )[^\r\n]*))?\r\n\r\n"
)
"""A part's headers as browsers, curl and httpx write them: the simple Content-Disposition and
at most a Content-Type, in this order and case. Any other headers are read line by line."""
_SIMPLE_CONTENT_TYPE = re.compile(
    r"multipart/form-data; ?boundary=([-\w'()+,./:=?]{1,70})", re.ASCII
)
"""The Content-Type clients send, with an unquoted boundary and no charset."""
_INVALID = "Invalid multipart data."


def form_parser(
    *, max_files: int, max_fields: int, max_part_size: int
) -> Callable[[Headers, AsyncGenerator[bytes, None]], Any]:
    """A Starlette-style form parser factory: this parser for small bodies, Starlette's else."""

    def parser(headers: Headers, stream: AsyncGenerator[bytes, None]) -> Any:
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) <= WHOLE_BODY_BYTES:
            return WholeBodyForm(
                headers,
                stream,
                max_files=max_files,
                max_fields=max_fields,
                max_part_size=max_part_size,
            )
        return MultiPartParser(
            headers,
            stream,
            max_files=max_files,
            max_fields=max_fields,
            max_part_size=max_part_size,
        )

    return parser


class WholeBodyForm:
    """Parses a multipart body read whole; `parse()` as Starlette's `MultiPartParser`.

    Made without a stream, it parses a body the caller read (`form_of`).
    """

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None] | None,
        *,
        max_files: int,
        max_fields: int,
        max_part_size: int,
    ) -> None:
        self._headers = headers
        self._stream = stream
        self._max_files = max_files
        self._max_fields = max_fields
        self._max_part_size = max_part_size

    async def parse(self) -> FormData:
        """The form's fields and files, in order."""
        delimiter, charset = self._delimiter()  # refused before the body is read
        assert self._stream is not None, "a parser made without a stream reads no body"
        body = b"".join([chunk async for chunk in self._stream])
        return FormData(self._items(body, delimiter, charset))

    def form_of(self, body: bytes) -> FormData:
        """The fields and files of `body`, the request's whole body, as `parse` reads them."""
        delimiter, charset = self._delimiter()
        return FormData(self._items(body, delimiter, charset))

    def _delimiter(self) -> tuple[bytes, str]:
        """The parts' delimiter and the body's charset, from the request's Content-Type."""
        content_type = self._headers["Content-Type"]
        delimiter = simple_delimiter(content_type)
        if delimiter is not None:
            return delimiter, "utf-8"
        _, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if boundary is None:
            raise MultiPartException("Missing boundary in multipart.")
        return b"--" + boundary, _charset(params.get(b"charset", b"utf-8"))

    def _items(self, body: bytes, delimiter: bytes, charset: str) -> list[tuple[str, Any]]:
        simple = simple_items(
            body,
            delimiter,
            charset,
            max_fields=self._max_fields,
            max_files=self._max_files,
            max_part_size=self._max_part_size,
        )
        return simple if simple is not None else self._any_items(body, delimiter, charset)

    def _any_items(self, body: bytes, delimiter: bytes, charset: str) -> list[tuple[str, Any]]:
        items: list[tuple[str, Any]] = []
        files = fields = 0
        separator = b"\r\n" + delimiter
        if not body.startswith(delimiter):  # no preamble, as python-multipart
            raise MultiPartException(_INVALID)
        at = len(delimiter)
        while True:
            part = _after_delimiter_line(body, at)
            if part is None:
                return items
            at = part
            name, filename, raw_headers, data_start = _part_head(body, at, charset)
            end = body.find(separator, data_start)
            if end < 0:
                raise MultiPartException(_INVALID)
            data = body[data_start:end]
            if filename is None:
                fields += 1
                if fields > self._max_fields:
                    raise MultiPartException(
                        f"Too many fields. Maximum number of fields is {self._max_fields}."
                    )
                if len(data) > self._max_part_size:
                    raise MultiPartException(
                        f"Part exceeded maximum size of {int(self._max_part_size / 1024)}KB."
                    )
                items.append((name, _decode(data, charset)))
            else:
                files += 1
                if files > self._max_files:
                    raise MultiPartException(
                        f"Too many files. Maximum number of files is {self._max_files}."
                    )
                items.append((name, _upload(data, filename, raw_headers)))
            at = end + len(separator)


SimplePart = tuple[bytes, bytes | None, bytes, bytes | None, bytes]
"""A part of a simple form as sent: its name, file name (None for a field), Content-Disposition,
Content-Type (None when absent) and data."""


def simple_delimiter(content_type: str) -> bytes | None:
    """The parts' delimiter for the Content-Type clients send; None for any other.

    That is `_SIMPLE_CONTENT_TYPE`: no charset, so the form is UTF-8. Any other is read in full.
    """
    simple = _SIMPLE_CONTENT_TYPE.fullmatch(content_type)
    return None if simple is None else b"--" + simple.group(1).encode("latin-1")


def simple_parts(body: bytes, delimiter: bytes, max_parts: int) -> list[SimplePart] | None:
    """The parts of a simple form of at most `max_parts` parts, in order; None for another.

    A simple form's parts all have simple heads (`_SIMPLE_PART`) and it ends with the closing
    delimiter; `WholeBodyForm._any_items` reads (or refuses) any other. The body is cut at its
    delimiters in one step. That cuts it where `_any_items` does: a simple head holds no line
    break but its own, and the delimiter's line starts with one, so no delimiter starts inside a
    head unless the part's data begins with it, and then the head does not match the cut-off
    piece. `tests/server/test_formparse.py` compares both on forms made to tell them apart.
    At most `max_parts` + 1 pieces are cut and looked at, however many parts a body holds.
    """
    if not body.startswith(delimiter):
        return None
    parts: list[SimplePart] = []
    for piece in body[len(delimiter) :].split(b"\r\n" + delimiter, max_parts):
        if piece.startswith(b"--"):
            return parts
        if len(parts) == max_parts:
            return None  # a part more than it may have
        head = _SIMPLE_PART.match(piece, 2) if piece.startswith(b"\r\n") else None
        if head is None:
            return None
        disposition, raw_name, raw_filename, content_type = head.group(1, 2, 3, 4)
        parts.append((raw_name, raw_filename, disposition, content_type, piece[head.end() :]))
    return None  # no closing delimiter


def simple_items(
    body: bytes,
    delimiter: bytes,
    charset: str,
    *,
    max_fields: int,
    max_files: int,
    max_part_size: int,
) -> list[tuple[str, Any]] | None:
    """The items of a simple form within the limits; None for any other form.

    They are what `WholeBodyForm._any_items` reads of it (`simple_parts`).
    """
    parts = simple_parts(body, delimiter, max_fields + max_files)
    if parts is None:
        return None
    items: list[tuple[str, Any]] = []
    files = fields = 0
    for raw_name, raw_filename, disposition, content_type, data in parts:
        if raw_filename is None:
            fields += 1
            if fields > max_fields or len(data) > max_part_size:
                return None
            items.append((_decode(raw_name, charset), _decode(data, charset)))
        else:
            files += 1
            if files > max_files:
                return None
            upload = simple_upload(data, _decode(raw_filename, charset), disposition, content_type)
            items.append((_decode(raw_name, charset), upload))
    return items


def simple_upload(
    data: bytes, filename: str, disposition: bytes, content_type: bytes | None
) -> UploadFile:
    """The file of a simple part, with the headers it was sent with."""
    headers = [(b"content-disposition", disposition)]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    return _upload(data, filename, headers)


def _part_head(
    body: bytes, at: int, charset: str
) -> tuple[str, str | None, list[tuple[bytes, bytes]], int]:
    """A part's field name, file name, headers and where its data starts (its headers at `at`)."""
    simple = _SIMPLE_PART.match(body, at)
    if simple is not None:  # what the lines below find, in one step
        disposition, raw_name, raw_filename, content_type = simple.group(1, 2, 3, 4)
        headers = [(b"content-disposition", disposition)]
        if content_type is not None:
            headers.append((b"content-type", content_type))
        filename = None if raw_filename is None else _decode(raw_filename, charset)
        return _decode(raw_name, charset), filename, headers, simple.end()
    headers_end = body.find(b"\r\n\r\n", at - 2)  # at - 2: a part without headers
    if headers_end < 0:
        raise MultiPartException(_INVALID)
    headers = _header_lines(body[at:headers_end]) if headers_end >= at else []
    name, filename = _disposition(headers, charset)
    return name, filename, headers, headers_end + 4


def _after_delimiter_line(body: bytes, at: int) -> int | None:
    """Where the part after a delimiter starts; None after the closing delimiter."""
    if body.startswith(b"--", at):
        return None
    while at < len(body) and body[at] in b" \t":  # transport padding
        at += 1
    if not body.startswith(b"\r\n", at):
        raise MultiPartException(_INVALID)
    return at + 2


def _header_lines(block: bytes) -> list[tuple[bytes, bytes]]:
    headers = []
    for line in block.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if not colon or not name:
            raise MultiPartException(_INVALID)
        headers.append((name.lower(), value.lstrip(b" ")))  # spaces only, as python-multipart
    return headers


def _disposition(headers: list[tuple[bytes, bytes]], charset: str) -> tuple[str, str | None]:
    """The part's field name and, for a file, its file name."""
    disposition = b""
    for name, value in headers:
        if name == b"content-disposition":
            disposition = value
    simple = _SIMPLE_DISPOSITION.fullmatch(disposition)
    if simple is not None:
        raw_name, raw_filename = simple.group(1), simple.group(2)
    else:
        _, options = parse_options_header(disposition.decode("latin-1"))
        raw_name, raw_filename = options.get(b"name"), options.get(b"filename")
        if raw_name is None:
            raise MultiPartException(
                'The Content-Disposition header field "name" must be provided.'
            )
    filename = None if raw_filename is None else _decode(raw_filename, charset)
    return _decode(raw_name, charset), filename


class _InMemory(io.BytesIO):
    """A file's bytes, in memory: Starlette's `UploadFile` reads it without a thread hop.

    `UploadFile` looks for `SpooledTemporaryFile._rolled` to know a file is in memory.
    """

    _rolled = False


def _upload(data: bytes, filename: str, headers: list[tuple[bytes, bytes]]) -> UploadFile:
    return UploadFile(
        file=_InMemory(data),
        size=len(data),
        filename=filename,
        headers=Headers(raw=headers),
    )


def _charset(value: bytes | str) -> str:
    name = value.decode("latin-1") if isinstance(value, bytes) else value
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "latin-1"


def _decode(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return data.decode("latin-1")
