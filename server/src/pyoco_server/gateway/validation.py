"""Request validators: clear 400 problems where Connexion 3.3 crashed or said too little."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.jsonifier import Jsonifier
from connexion.utils import is_null, is_nullable
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError
from starlette.types import Scope

from pyoco_server.codec import dumps, loads


class StrictJSONBodyValidator(JSONRequestBodyValidator):
    """Connexion's JSON body validator, with clear errors for undecodable or non-JSON bodies.

    Connexion 3.3 decodes outside its try block, so a non-UTF-8 body became a 500. Parsing is
    `codec.loads`: strict (no NaN or Infinity, UTF-8 only), integers exact.
    """

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        if self._encoding.lower().replace("-", "") != "utf8":
            raise BadRequestProblem(
                detail=f"the request body must be UTF-8 JSON, not {self._encoding}"
            )
        try:
            return loads(raw)
        except ValueError as exc:
            raise BadRequestProblem(
                detail=f"the request body is not valid UTF-8 JSON: {exc}"
            ) from None


class NamedParameterValidator(ParameterValidator):
    """Connexion's parameter validator, naming the parameter and compiling each schema once.

    Connexion reports a bad parameter with jsonschema's whole multi-line dump and without its
    name ("'AAA' is not one of [...]"), and deep-copies and compiles the schema on every request.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compiled: dict[int, Draft4Validator] = {}

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
            self._validator(param).validate(value)
        except ValidationError as exc:
            return f"{parameter_type} parameter '{param['name']}': {exc.message}"
        return None

    def _validator(self, param: dict[str, Any]) -> Draft4Validator:
        # The parameter dicts are the operation's own and live as long as this validator.
        validator = self._compiled.get(id(param))
        if validator is None:
            schema = param.get("schema", param)
            validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
            self._compiled[id(param)] = validator
        return validator


class FastJsonifier(Jsonifier):
    """Connexion's JSON (de)serialiser on `codec`: orjson writes responses much faster."""

    def dumps(self, data: Any, **kwargs: Any) -> str:
        """JSON text of `data` (Connexion adds no options for our responses)."""
        return dumps(data).decode() + "\n"

    def loads(self, data: Any) -> Any:
        """Parse JSON; like Connexion, text that is not JSON is returned as is."""
        try:
            return loads(data)
        except ValueError:
            return data.decode() if isinstance(data, bytes) else data


VALIDATORS = {
    **VALIDATOR_MAP,
    "parameter": NamedParameterValidator,
    "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": StrictJSONBodyValidator}),
}
