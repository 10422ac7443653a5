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
  parses small bodies whole (`_formparse`; a plain form in one step with its split:
  `FormPlan.simple_form`), reads what it needs of the schema once (`_formplan.FormPlan`),
  keeps the form for the handler (`PARSED_FORM`) and, like the handlers'
  requests, decodes the JSON parts itself (`JsonParts`, which wraps the URI parser's
  `resolve_form`).
- Both body validators read a body of a stated length up to 1 MiB whole rather than through
  Connexion's async generator (`_ReadWhole`, which replays the messages with Connexion's
  `_insert_messages`; `tests/server/test_whole_body.py` compares it with Connexion's
  `wrap_receive`), and keep nothing of a request in themselves, so that one serves every request
  of an operation (`STATELESS_VALIDATORS`).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from connexion.datastructures import MediaTypeDict
    from connexion.exceptions import BadRequestProblem, ProblemException
    from connexion.json_schema import Draft4RequestValidator
    from connexion.utils import is_null, is_nullable
    from connexion.validators import (
        VALIDATOR_MAP,
        AbstractRequestBodyValidator,
        JSONRequestBodyValidator,
        MultiPartFormDataValidator,
        ParameterValidator,
    )
from jsonschema import Draft4Validator, ValidationError
from starlette.datastructures import FormData, Headers
from starlette.formparsers import MultiPartException
from starlette.types import Message, Receive, Scope

from pyoco_server.domain.codec import loads
from pyoco_server.domain.errors import PayloadTooLarge
from pyoco_server.gateway._fastschema import RustFirst
from pyoco_server.gateway._formparse import WHOLE_BODY_BYTES
from pyoco_server.gateway._formplan import FormPlan, Items, Split
from pyoco_server.gateway._headers import header
from pyoco_server.gateway._multipart import PARSED_BODY, PARSED_FORM, RESOLVED_FORM, JsonParts


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


class _ReadWhole:
    """Connexion's `wrap_receive`, reading a body of a stated length up to `WHOLE_BODY_BYTES` whole.

    The body's messages are read in a loop and handed to `_parse_whole` as one `bytes`.
    Connexion hands `_parse` an async generator of the messages' bodies, whose steps cost more
    than the parse of a small submit. Anything else (no length, a larger body) takes Connexion's
    way. Either way the body is parsed and validated the same, and the messages read are
    replayed to the application after them, as Connexion's own validators replay them.
    """

    _nullable: bool

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        length = _content_length(scope)
        if length is None or not 0 < length <= WHOLE_BODY_BYTES:
            wrapped: tuple[Receive, Scope] = await super().wrap_receive(  # type: ignore[misc]
                receive, scope=scope
            )
            return wrapped
        messages: list[Message] = []
        chunks: list[bytes] = []
        more_body = True
        while more_body:
            message = await receive()
            messages.append(message)
            more_body = message.get("more_body", False)
            chunks.append(message.get("body", b""))
        body = self._parse_whole(b"".join(chunks), scope)
        if not (body is None and self._nullable):
            self._validate(body)
        return AbstractRequestBodyValidator._insert_messages(receive, messages=messages), scope

    def _parse_whole(self, raw: bytes, scope: Scope) -> Any:
        """The parsed body, as `_parse` returns it (each validator defines it)."""
        raise NotImplementedError

    if TYPE_CHECKING:  # Connexion's validators define it

        def _validate(self, body: Any) -> Any: ...


def _content_length(scope: Scope) -> int | None:
    """The request's Content-Length when it is plain digits (as Connexion reads it: the first)."""
    length = header(scope, b"content-length")
    return int(length) if length is not None and length.isdigit() else None  # ASCII digits


class StrictJSONBodyValidator(_ReadWhole, JSONRequestBodyValidator):
    """Connexion's JSON body validator, with clear errors for undecodable or non-JSON bodies.

    Connexion 3.3 decodes outside its try block, so a non-UTF-8 body became a 500. Parsing is
    `codec.loads`: strict (no NaN or Infinity, UTF-8 only), integers exact.
    """

    @property
    def _validator(self) -> Any:
        return body_validator(self._schema)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        return self._parse_whole(b"".join([chunk async for chunk in stream]), scope)

    def _parse_whole(self, raw: bytes, scope: Scope) -> Any:
        """The body, also left for the handler when it is not None (`PARSED_BODY`).

        Only a request whose body then validates reaches the handler.
        """
        if not raw:
            return None
        if self._encoding.lower().replace("-", "") != "utf8":
            raise BadRequestProblem(
                detail=f"the request body must be UTF-8 JSON, not {self._encoding}"
            )
        try:
            body = loads(raw, unicode_only=True)
        except ValueError as exc:
            raise BadRequestProblem(
                detail=f"the request body is not valid UTF-8 JSON: {exc}"
            ) from None
        if body is not None:
            scope[PARSED_BODY] = body
        return body


class LimitedMultiPartValidator(_ReadWhole, MultiPartFormDataValidator):
    """Connexion's multipart validator, taking only the parts the operation's schema declares.

    Starlette's parser allows 1,000 files and 1,000 fields by default; here a form may have as
    many files and fields as the schema has properties of each kind, and a field (not a file:
    files are bounded by the body limit) at most `max_field_bytes`, named by `field_setting`.
    Subclasses set both (`validators`).

    `_parse` does what Connexion's `FormDataValidator._parse` does, with what it reads of the
    schema read once (`FormPlan`); a differential test runs both on generated forms.
    """

    max_field_bytes = 1024 * 1024
    field_setting: str | None = None

    def __init__(self, *args: Any, uri_parser: Any = None, **kwargs: Any) -> None:
        parser = None if uri_parser is None else JsonParts(uri_parser)
        super().__init__(*args, uri_parser=parser, **kwargs)

    @property
    def _validator(self) -> Any:
        return body_validator(self._schema)

    @functools.cached_property
    def _plan(self) -> FormPlan:
        """The schema's plan, kept by the validator (its schema is fixed) and by the class."""
        cls = type(self)
        plans = cls.__dict__.get("_plans")
        if plans is None:  # one cache per class: the plans depend on max_field_bytes
            plans = _CompiledOnce(lambda schema: FormPlan.of(schema, cls.max_field_bytes))
            cls._plans = plans
        plan: FormPlan = plans(self._schema)
        return plan

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        try:
            form = await self._plan.parser(Headers(scope=scope), stream).parse()
        except MultiPartException as exc:
            raise self._refusal(str(exc)) from None
        return self._fields(form, scope)

    def _parse_whole(self, raw: bytes, scope: Scope) -> Any:
        if self._uri_parser is not None:
            content_type = (header(scope, b"content-type") or b"").decode("latin-1")
            plain = self._plan.simple_form(content_type, raw)
            if plain is not None:  # what the lines below give, in one step
                items, split = plain
                return self._resolved(items, split, scope)
        try:
            form = self._plan.whole(Headers(scope=scope)).form_of(raw)
        except MultiPartException as exc:
            raise self._refusal(str(exc)) from None
        return self._fields(form, scope)

    def _fields(self, form: FormData, scope: Scope) -> Any:
        """What Connexion's `_parse` returns for `form` (its files as placeholders: `split`)."""
        items = form.multi_items()
        if self._uri_parser is None:
            scope[PARSED_FORM] = items
            return {name: form.getlist(name) for name in form}
        return self._resolved(items, self._plan.split(items), scope)

    def _resolved(self, items: Items, split: Split, scope: Scope) -> Any:
        """The form to validate: its fields resolved, its files as placeholders.

        The form's items, and its fields as resolved with its files when the handler's request
        would split it alike, are left for the handler (`PARSED_FORM`, `RESOLVED_FORM`), which
        only a request whose form validates reaches.
        """
        fields, files, uploads = split
        data: dict[str, Any] = self._uri_parser.resolve_form(fields)
        scope[PARSED_FORM] = items
        scope[RESOLVED_FORM] = (data, uploads)
        return {**data, **files}

    def _validate_params_strictly(self, data: dict[str, Any]) -> None:
        if not data.keys() <= self._plan.names:  # Connexion's check builds two sets
            super()._validate_params_strictly(data)

    def _refusal(self, message: str) -> Exception:
        if "exceeded maximum size" in message:
            return PayloadTooLarge("a form field", None, self.max_field_bytes, self.field_setting)
        if message.startswith("Too many"):
            plan = self._plan
            refusal: Exception = ProblemException(
                status=400,
                title="Bad Request",
                detail=f"the form has more parts than this operation takes: at most one of "
                f"each of the files {', '.join(plan.files)} and of the fields "
                f"{', '.join(plan.fields)}",
                ext={"reason": "invalid_multipart"},
            )
            return refusal
        return MultiPartException(message)


STATELESS_VALIDATORS = (StrictJSONBodyValidator, LimitedMultiPartValidator)
"""The request body validators that keep nothing of a request in themselves (what a request
leaves for its handler goes in its scope), so that one can serve every request of an operation
(`_lane.BodyLane` builds one per content type). `tests/server/test_connexion_lane.py` sends
requests that interleave through one."""


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
