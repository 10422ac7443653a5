"""Literal paths before templated ones, as OpenAPI matches them, in routing and in methods.

Connexion's router (Starlette's) tries the spec's paths in the order written and, for a path
that matches, each method's route in turn; OpenAPI says a literal path (`/runs/events`) wins
over a templated one that also matches it (`/runs/{run_id}`). `literal_paths_first` orders the
served spec so, and `LiteralPathMethods` answers 405 for a method the literal path lacks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send


class LiteralPathMethods:
    """Answers 405 for a method a literal path of the spec does not declare.

    Starlette's router tries each operation's route in turn, so with `GET /wheels/history` and
    `DELETE /wheels/{wheel_name}` in the spec, `DELETE /wheels/history` would reach
    `delete_wheel` as the wheel named "history". OpenAPI matches literal paths before templated
    ones; this layer, placed before routing, makes that so for methods too.
    """

    def __init__(self, app: ASGIApp, spec: Mapping[str, Any]) -> None:
        self.app = app
        self._declared = {
            path: {method.upper() for method in item if method in _HTTP_METHODS}
            for path, item in spec["paths"].items()
            if "{" not in path
        }
        templated = [path for path in spec["paths"] if "{" in path]
        shadowed = {
            path
            for path in self._declared
            if any(_template_matches(template, path) for template in templated)
        }
        self._declared = {path: self._declared[path] for path in shadowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an undeclared method of a literal path, else pass the request on."""
        declared = self._declared.get(scope.get("path", "")) if scope["type"] == "http" else None
        if declared is not None:
            method = scope["method"]
            if method not in declared and not (method == "HEAD" and "GET" in declared):
                raise HTTPException(405)
        await self.app(scope, receive, send)


_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def literal_paths_first(paths: Mapping[str, Any]) -> dict[str, Any]:
    """`paths` reordered so that each literal path comes before the templated paths it matches.

    Connexion's router tries the spec's paths in order, so with `/runs/{run_id}` written before
    `/runs/events`, `GET /runs/events` would reach `get_run` for a run named "events". OpenAPI
    matches literal paths first; this order makes the router do so too. Other paths keep their
    order.
    """
    ordered = list(paths)
    for path in [path for path in paths if "{" not in path]:
        shadows = [
            position
            for position, template in enumerate(ordered)
            if "{" in template and _template_matches(template, path)
        ]
        if shadows and shadows[0] < ordered.index(path):
            ordered.remove(path)
            ordered.insert(shadows[0], path)
    return {path: paths[path] for path in ordered}


def _template_matches(template: str, path: str) -> bool:
    """Whether the templated spec path `template` also matches the literal `path`."""
    pattern = re.sub(r"\\\{[^/}]+\\\}", "[^/]+", re.escape(template))
    return re.fullmatch(pattern, path) is not None
