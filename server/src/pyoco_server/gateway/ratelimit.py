"""Submits limited per tenant: a token bucket each, refused with 429 and Retry-After beyond.

Each tenant (the API key's; with keys off, every caller is the one anonymous tenant) may submit
`PYOCO_SUBMIT_BURST` runs at once and `PYOCO_SUBMIT_RATE_PER_SEC` a second sustained, per
gateway process; a rate of 0 turns this default off. A key created with its own limit
(`pyoco-server-admin api-key create --submit-rate-per-sec R [--submit-burst B]`) has a bucket of
its own at that rate instead of sharing its tenant's, so an operator can hold back one client (a
CI job, a script gone wrong) without touching the rest of its tenant.

The layer sits right after the API-key check, so a refused submit costs no body parsing, no
YAML and no NATS request.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection

from starlette.types import ASGIApp, Receive, Scope, Send

from pyoco_server.domain.errors import TooManyRequests
from pyoco_server.domain.keys import Principal
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway._connexion import matched_operation_id
from pyoco_server.gateway.access import principal_of

SUBMITS = frozenset({"submit_run", "submit_run_yaml", "rerun_run"})
"""The operations a tenant's submit rate counts."""

ANONYMOUS = ""
"""The tenant of every caller with API keys off."""

_MAX_BUCKETS = 10_000
"""Buckets kept before full ones (tenants and keys that have been quiet) are forgotten."""


class TokenBuckets:
    """Token buckets by name: `rate` tokens a second, at most `burst` kept.

    A take may name another rate and burst for its bucket (a key's own limit).
    """

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float, float, float]] = {}
        """Name -> (tokens, when they were counted, rate, burst)."""

    def take(self, name: str, rate: float | None = None, burst: int | None = None) -> float:
        """Take a token of bucket `name`'s: 0.0 when there was one, else seconds until there is."""
        now = self._clock()
        rate = self._rate if rate is None else rate
        most = self._burst if burst is None else float(burst)
        tokens, since, _, _ = self._buckets.get(name, (most, now, rate, most))
        tokens = min(most, tokens + (now - since) * rate)
        if tokens < 1.0:
            self._buckets[name] = (tokens, now, rate, most)
            return (1.0 - tokens) / rate
        if name not in self._buckets and len(self._buckets) >= _MAX_BUCKETS:
            self._forget_full(now)
        self._buckets[name] = (tokens - 1.0, now, rate, most)
        return 0.0

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled: they are the same as new ones."""
        for name, (tokens, since, rate, most) in list(self._buckets.items()):
            if tokens + (now - since) * rate >= most:
                del self._buckets[name]


class SubmitRateLimit:
    """ASGI middleware: refuses a submit over its tenant's rate (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        buckets: TokenBuckets,
        tenants_limited: bool = True,
        operations: Collection[str] = SUBMITS,
    ) -> None:
        self.app = app
        self._buckets = buckets
        self._tenants_limited = tenants_limited
        self._operations = operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Take a token for a submit, or answer 429."""
        if scope["type"] == "http" and matched_operation_id(scope) in self._operations:
            self._take(principal_of(scope))
        await self.app(scope, receive, send)

    def _take(self, principal: Principal | None) -> None:
        """Take the caller's token (its key's own bucket, or its tenant's).

        Raises:
            TooManyRequests: the bucket is empty.
        """
        limit = principal.submit_limit if principal is not None else None
        if principal is not None and limit is not None and limit.rate_per_sec is not None:
            wait = self._buckets.take(f"key:{principal.key_id}", limit.rate_per_sec, limit.burst)
            if wait > 0:
                raise _refusal(f"API key {principal.key_id!r}", "the key's own limit", wait)
        elif self._tenants_limited:
            tenant = principal.tenant_id if principal is not None else ANONYMOUS
            wait = self._buckets.take(f"tenant:{tenant}")
            if wait > 0:
                who = (
                    f"tenant {tenant!r}"
                    if tenant != ANONYMOUS
                    else "this gateway's callers (API keys off)"
                )
                raise _refusal(who, "PYOCO_SUBMIT_RATE_PER_SEC, PYOCO_SUBMIT_BURST", wait)


def _refusal(who: str, limit: str, wait: float) -> TooManyRequests:
    retry_after = max(1, math.ceil(wait))
    return TooManyRequests(
        "submit_rate_limited",
        f"{who} submitted runs faster than allowed ({limit}); nothing was stored: "
        f"retry in {retry_after} s",
        retry_after,
    )


def submit_rate_layer(settings: Settings) -> Callable[[ASGIApp], SubmitRateLimit] | None:
    """The middleware as Connexion builds its layers (`layer(app)`); None when nothing is limited.

    Nothing is when there is no default rate and API keys are off (no key to carry a limit).
    """
    tenants_limited = settings.submit_rate_per_sec > 0
    if not tenants_limited and settings.http_auth_mode == "none":
        return None
    buckets = TokenBuckets(settings.submit_rate_per_sec, settings.submit_burst)

    def layer(app: ASGIApp) -> SubmitRateLimit:
        return SubmitRateLimit(app, buckets=buckets, tenants_limited=tenants_limited)

    return layer
