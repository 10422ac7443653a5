"""Request validators that turn Connexion 3.3's own crashes on bad input into 400 problems."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.jsonifier import Jsonifier
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator
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
    "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": StrictJSONBodyValidator}),
}
