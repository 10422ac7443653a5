"""Which code a run gets: the wheel catalog, followed in memory, binds runs at submit.

A run is bound to the newest version of each distribution available to its tag at the moment
it is submitted (or to the versions its `requires` pins), and the binding travels in its job, so a
run queued before an upload still runs the code it was submitted against, and a redelivery or
retry runs the same code. The catalog is a copy of the wheel index kept by a feed, so binding
costs no NATS round trip.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence

from packaging.version import Version

from pyoco_server.domain.codec import WHEEL_INDEX
from pyoco_server.domain.errors import (
    BackendUnavailable,
    CallableNotAllowed,
    DecodeError,
    UnknownRequirement,
)
from pyoco_server.domain.records import CodeVersion, WheelIndexRecord
from pyoco_server.domain.trust import TaskPolicy, flow_refusals
from pyoco_server.domain.wheels import available_to, code_of, current_versions, parse_requirement
from pyoco_server.domain.workflow import Workflow
from pyoco_server.ports import Backend, Bucket

log = logging.getLogger(__name__)


class WheelCatalog:
    """The wheel index in memory, and the binding rule."""

    def __init__(self, backend: Backend) -> None:
        self._records: dict[str, WheelIndexRecord] = {}
        self._feed = backend.follow(Bucket.WHEEL_INDEX, self._on_put, self._on_delete)

    def start(self) -> None:
        """Start following the index."""
        self._feed.start()

    async def stop(self) -> None:
        """Stop following."""
        await self._feed.stop()

    @property
    def loaded(self) -> bool:
        """True once the index's contents are in memory."""
        return self._feed.loaded

    async def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait until the index's contents are in memory."""
        return await self._feed.wait_loaded(timeout)

    @property
    def records(self) -> dict[str, WheelIndexRecord]:
        """The index as last seen, by distribution."""
        return self._records

    def bind(self, tag: str, requires: Sequence[str] = ()) -> tuple[CodeVersion, ...]:
        """The code a run on `tag` gets: the newest versions, with `requires` pinned.

        Raises:
            BackendUnavailable: the catalog has not loaded yet (retry shortly).
            UnknownRequirement: a pin names a version the registry lacks for `tag`.
            InvalidRequirement: a pin is not `distribution==version`.
        """
        if not self._feed.loaded:
            raise BackendUnavailable("the wheel index is still loading; retry shortly", 1)
        bound = {code.distribution: code for code in current_versions(self._records, tag)}
        for text in requires:
            distribution, version = parse_requirement(text)
            bound[distribution] = self._pinned(distribution, version, tag, text)
        return tuple(bound[name] for name in sorted(bound))

    def _pinned(self, distribution: str, version: str, tag: str, text: str) -> CodeVersion:
        record = self._records.get(distribution)
        versions = record.versions if record else ()
        for candidate in versions:
            if Version(candidate.version) == Version(version) and available_to(candidate, tag):
                return code_of(distribution, candidate)
        offered = sorted(
            (v.version for v in versions if available_to(v, tag)), key=Version, reverse=True
        )
        raise UnknownRequirement(
            f"requires {text}: the registry has no such wheel for tag "
            f"{tag!r}; available: {', '.join(offered) or 'none'} (GET /wheels lists them)"
        )

    def modules(self, code: Iterable[CodeVersion]) -> frozenset[str]:
        """The top-level modules the bound wheels provide."""
        found: set[str] = set()
        for bound in code:
            record = self._records.get(bound.distribution)
            for version in record.versions if record else ():
                if version.sha256 == bound.sha256:
                    found.update(version.modules)
        return frozenset(found)

    def _on_put(self, key: str, value: bytes, _revision: int) -> None:
        try:
            self._records[key] = WHEEL_INDEX.decode(value)
        except DecodeError as exc:
            log.warning("wheel index record %s ignored: %s", key, exc)

    def _on_delete(self, key: str, _revision: int) -> None:
        self._records.pop(key, None)


class RunCode:
    """Binds a submission to its code and checks its task callables before anything is stored."""

    def __init__(self, catalog: WheelCatalog | None, policy: TaskPolicy) -> None:
        self._catalog = catalog
        self._policy = policy

    def bind(
        self,
        tag: str,
        *,
        requires: Sequence[str] = (),
        workflow: Workflow | None = None,
        narrowed: Collection[str] | None = None,
    ) -> tuple[CodeVersion, ...]:
        """The run's code (see `WheelCatalog.bind`), its callables checked against the policy.

        Raises:
            CallableNotAllowed: a task of `workflow` may not run (422, naming each).
        """
        if self._catalog is None:
            if requires:
                raise UnknownRequirement("requires: this gateway has no wheel registry")
            code: tuple[CodeVersion, ...] = ()
        else:
            code = self._catalog.bind(tag, requires)
        if workflow is not None:
            modules = self._catalog.modules(code) if self._catalog else frozenset()
            found = flow_refusals(workflow, self._policy, wheel_modules=modules, narrowed=narrowed)
            if found:
                raise CallableNotAllowed("; ".join(found))
        return code
