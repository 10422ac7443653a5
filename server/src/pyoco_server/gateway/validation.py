"""Request validators that turn Connexion 3.3's own crashes on bad input into 400 problems."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator
from starlette.types import Scope


class StrictJSONBodyValidator(JSONRequestBodyValidator):
    """Connexion's JSON body validator, with clear errors for undecodable or non-JSON bodies.

    Connexion 3.3 decodes outside its try block, so a non-UTF-8 body became a 500.
    """

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        try:
            text = raw.decode(self._encoding)
        except (UnicodeDecodeError, LookupError):
            raise BadRequestProblem(
                detail=f"the request body is not valid {self._encoding} text; send UTF-8 JSON"
            ) from None
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise BadRequestProblem(
                detail=f"the request body is not valid JSON: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}"
            ) from None
        except ValueError as exc:
            raise BadRequestProblem(detail=f"the request body is not valid JSON: {exc}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


VALIDATORS = {
    **VALIDATOR_MAP,
    "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": StrictJSONBodyValidator}),
}
