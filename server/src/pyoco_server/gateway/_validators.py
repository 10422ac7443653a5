"""The request validators: Connexion 3.3's, with clearer errors, bounded forms and compiled schemas.

Like gateway/_connexion.py, this module uses Connexion internals (its validator classes and
their hooks); `tests/server/test_connexion_internals.py` checks each one against the installed
Connexion.

- Validators name the bad parameter, and refuse undecodable JSON with a 400 where Connexion
  crashed (`StrictJSONBodyValidator`, `NamedParameterValidator`).
- Connexion builds every validator, and so compiles its schema, on every request; here each
  schema is compiled once (`body_validator`, `parameter_validator`), and bodies are checked by
  jsonschema-rs before Connexion's validator (`_fastschema`).
- The multipart validator bounds the number and size of parts (`LimitedMultiPartValidator`),
  parses small bodies whole (`_formparse`), keeps the form for the handler (`KeptForm`) and,
  like the handlers' requests, decodes the JSON parts itself (`JsonParts`, which wraps the URI
  parser's `resolve_form`).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from connexion.datastructures import MediaTypeDict
    from connexion.exceptions import BadRequestProblem, ProblemException
    from connexion.json_schema import Draft4RequestValidator
    from connexion.utils import is_null, is_nullable
    from connexion.validators import (
        VALIDATOR_MAP,
        JSONRequestBodyValidator,
        MultiPartFormDataValidator,
        ParameterValidator,
    )
from jsonschema import Draft4Validator, ValidationError
from starlette.formparsers import MultiPartException
from starlette.types import Scope

from pyoco_server.domain.codec import loads
from pyoco_server.domain.errors import PayloadTooLarge
from pyoco_server.gateway._fastschema import RustFirst
from pyoco_server.gateway._formparse import form_parser
from pyoco_server.gateway._multipart import PARSED_BODY, JsonParts, KeptForm


class _CompiledOnce:
    """Schema validators compiled once per schema object.

    Connexion builds a validator (and so compiles its schema) for every request. The schemas
    are the operation's own dicts, which live as long as the app; each entry keeps its schema,
    so that an id is never reused while cached. Bounded all the same, in case an upgrade makes
    Connexion hand out fresh dicts (a guard test checks that it does not).
    """

    limit = 256

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self._build = build
        self._cache: dict[int, tuple[Any, Any]] = {}

    def __call__(self, schema: Any) -> Any:
        """The validator of `schema`."""
        hit = self._cache.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        validator = self._build(schema)
        if len(self._cache) >= self.limit:
            self._cache.clear()
        self._cache[id(schema)] = (schema, validator)
        return validator

    def __len__(self) -> int:
        return len(self._cache)


body_validator = _CompiledOnce(
    lambda schema: RustFirst(
        schema, Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    )
)
"""The request body validator of a schema, as Connexion builds it, compiled once, with
jsonschema-rs asked first (`_fastschema`)."""

parameter_validator = _CompiledOnce(
    lambda param: Draft4Validator(
        param.get("schema", param), format_checker=Draft4Validator.FORMAT_CHECKER
    )
)
"""The validator of a parameter (its dict in the operation), compiled once."""


class StrictJSONBodyValidator(JSONRequestBodyValidator):
    """Connexion's JSON body validator, with clear errors for undecodable or non-JSON bodies.

    Connexion 3.3 decodes outside its try block, so a non-UTF-8 body became a 500. Parsing is
    `codec.loads`: strict (no NaN or Infinity, UTF-8 only), integers exact.
    """

    @property
    def _validator(self) -> Any:
        return body_validator(self._schema)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        self._scope = scope  # a validator serves one request
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        if self._encoding.lower().replace("-", "") != "utf8":
            raise BadRequestProblem(
                detail=f"the request body must be UTF-8 JSON, not {self._encoding}"
            )
        try:
            body = loads(raw)
        except ValueError as exc:
            raise BadRequestProblem(
                detail=f"the request body is not valid UTF-8 JSON: {exc}"
            ) from None
        return body

    def _validate(self, body: Any) -> dict[str, Any] | None:
        """Validate as Connexion does; a valid body is left for the handler (`PARSED_BODY`)."""
        result: dict[str, Any] | None = super()._validate(body)
        if body is not None:
            self._scope[PARSED_BODY] = body
        return result


class LimitedMultiPartValidator(MultiPartFormDataValidator):
    """Connexion's multipart validator, taking only the parts the operation's schema declares.

    Starlette's parser allows 1,000 files and 1,000 fields by default; here a form may have as
    many files and fields as the schema has properties of each kind, and a field (not a file:
    files are bounded by the body limit) at most `max_field_bytes`, named by `field_setting`.
    Subclasses set both (`validators`).
    """

    max_field_bytes = 1024 * 1024
    field_setting: str | None = None

    def __init__(self, *args: Any, uri_parser: Any = None, **kwargs: Any) -> None:
        parser = None if uri_parser is None else JsonParts(uri_parser)
        super().__init__(*args, uri_parser=parser, **kwargs)

    @property
    def _validator(self) -> Any:
        return body_validator(self._schema)

    @property
    def _form_parser_cls(self) -> Callable[..., KeptForm]:
        files, fields = _form_parts(self._schema)
        limited = form_parser(
            max_files=max(len(files), 1),
            max_fields=max(len(fields), 1),
            max_part_size=self.max_field_bytes,
        )
        return lambda headers, stream: KeptForm(limited(headers, stream), self._scope)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        self._scope = scope  # a validator serves one request
        if isinstance(self._uri_parser, JsonParts):
            self._uri_parser.kept_in = scope
        try:
            return await super()._parse(stream, scope)
        except MultiPartException as exc:
            raise self._refusal(str(exc)) from None

    def _refusal(self, message: str) -> Exception:
        if "exceeded maximum size" in message:
            return PayloadTooLarge("a form field", None, self.max_field_bytes, self.field_setting)
        if message.startswith("Too many"):
            files, fields = _form_parts(self._schema)
            refusal: Exception = ProblemException(
                status=400,
                title="Bad Request",
                detail=f"the form has more parts than this operation takes: at most one of "
                f"each of the files {', '.join(files)} and of the fields {', '.join(fields)}",
                ext={"reason": "invalid_multipart"},
            )
            return refusal
        return MultiPartException(message)


def _form_parts(schema: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The file fields and the other fields of a multipart schema."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    files = [name for name, spec in properties.items() if spec.get("format") == "binary"]
    return files, [name for name in properties if name not in files]


def validators(max_field_bytes: int, field_setting: str) -> dict[str, Any]:
    """The request validators, with multipart fields limited to `max_field_bytes`."""

    class Limited(LimitedMultiPartValidator):
        pass

    Limited.max_field_bytes = max_field_bytes
    Limited.field_setting = field_setting
    return {
        **VALIDATORS,
        "body": MediaTypeDict({**VALIDATORS["body"], "multipart/form-data": Limited}),
    }


class NamedParameterValidator(ParameterValidator):
    """Connexion's parameter validator, naming the parameter and compiling each schema once.

    Connexion reports a bad parameter with jsonschema's whole multi-line dump and without its
    name ("'AAA' is not one of [...]"), and deep-copies and compiles the schema on every request
    (it also builds this validator on every request: the compiled schemas are kept outside it,
    in `parameter_validator`).
    """

    def validate_parameter(
        self, parameter_type: str, value: Any, param: dict[str, Any], param_name: Any = None
    ) -> str | None:
        """The problem with `value` for `param`, or None when it is valid."""
        if value is None:
            if param.get("required"):
                return f"the {parameter_type} parameter '{param['name']}' is required"
            return None
        if is_nullable(param) and is_null(value):
            return None
        try:
            parameter_validator(param).validate(value)
        except ValidationError as exc:
            return f"{parameter_type} parameter '{param['name']}': {exc.message}"
        return None


VALIDATORS = {
    **VALIDATOR_MAP,
    "parameter": NamedParameterValidator,
    "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": StrictJSONBodyValidator}),
}
