"""Connexion 3.3's async operations, decorated once instead of on every request.

Connexion builds the decorator chain of a handler (parameter parsing, response building, the
URI parser of the operation) anew for every request; profiling showed it as a large share of
the gateway's CPU per request. The chain holds no per-request state (the request is passed in
at call time), so these subclasses build it on first use and keep it. Connexion is pinned below
3.4; the schemathesis suite exercises every operation through this path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.context import receive, scope
from connexion.decorators.main import StarletteDecorator


class _DecorateOnce(StarletteDecorator):
    """A `StarletteDecorator` that decorates its function once, on the first request."""

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        decorated: Callable[..., Any] | None = None
        uri_parser: Any = None

        @functools.wraps(function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal decorated, uri_parser
            if decorated is None:
                uri_parser = self.uri_parser
                decorated = self.decorate(function)
            request = self.framework.get_request(
                uri_parser=uri_parser, scope=scope, receive=receive
            )
            return await decorated(request)

        return wrapper


class _Operation(AsyncOperation):
    @functools.cached_property
    def fn(self) -> Callable[..., Any]:
        """The handler with its decorator chain, built once."""
        decorator = _DecorateOnce(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)
        return decorator(self._fn)


class _Api(AsyncApi):
    def make_operation(self, operation: Any) -> AsyncOperation:
        return _Operation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )


class _ASGIApp(AsyncASGIApp):
    api_cls = _Api


class GatewayApp(AsyncApp):
    """`AsyncApp` whose operations decorate their handlers once."""

    def __init__(self, import_name: str, **kwargs: Any) -> None:
        super().__init__(import_name, **kwargs)
        self._middleware_app = _ASGIApp()
        self.middleware.app = self._middleware_app
