"""Which code a run gets (services/binding.py): bound at submit, pinned, checked."""

from __future__ import annotations

import asyncio

import pytest

from pyoco_server.domain.codec import WHEEL_INDEX
from pyoco_server.domain.errors import BackendUnavailable, CallableNotAllowed, UnknownRequirement
from pyoco_server.domain.records import WheelIndexRecord, WheelVersion
from pyoco_server.domain.trust import TaskPolicy
from pyoco_server.domain.workflow import parse_workflow
from pyoco_server.memory import MemoryBackend
from pyoco_server.services.binding import RunCode, WheelCatalog


def version(number: str, tags: tuple[str, ...] = ()) -> WheelVersion:
    return WheelVersion(
        version=number,
        wheel=f"my_ext-{number}-py3-none-any.whl",
        sha256=number.replace(".", "").ljust(64, "a"),
        size_bytes=1,
        tags=tags,
        modules=("my_ext",),
        uploaded_at=1.0,
    )


async def catalog_with(*versions: WheelVersion) -> WheelCatalog:
    backend = MemoryBackend()
    backend.wheel_index_bucket.put(
        "my-ext", WHEEL_INDEX.encode(WheelIndexRecord("my-ext", versions))
    )
    catalog = WheelCatalog(backend)
    catalog.start()
    assert await catalog.wait_loaded(1)
    return catalog


FLOW = b"""version: 1
flow:
  graph: shout
tasks:
  shout: {callable: "my_ext:shout"}
"""


def test_runs_are_bound_to_the_newest_version_for_their_tag_or_to_a_pin() -> None:
    async def test() -> None:
        catalog = await catalog_with(version("0.1.0"), version("0.2.0", ("gpu",)))
        assert [c.version for c in catalog.bind("cpu")] == ["0.1.0"]
        assert [c.version for c in catalog.bind("gpu")] == ["0.2.0"]
        assert [c.version for c in catalog.bind("gpu", ["my_ext==0.1.0"])] == ["0.1.0"]
        with pytest.raises(UnknownRequirement, match=r"available: 0\.1\.0"):
            catalog.bind("cpu", ["my_ext==0.2.0"])  # 0.2.0 is for gpu only
        assert catalog.modules(catalog.bind("cpu")) == {"my_ext"}

    asyncio.run(test())


def test_binding_waits_for_the_catalog() -> None:
    catalog = WheelCatalog(MemoryBackend())
    with pytest.raises(BackendUnavailable, match="loading"):
        catalog.bind("default")


def test_a_submission_is_bound_and_its_callables_checked() -> None:
    async def test() -> None:
        code = RunCode(await catalog_with(version("0.1.0")), TaskPolicy())
        bound = code.bind("default", workflow=parse_workflow(FLOW))
        assert [c.version for c in bound] == ["0.1.0"]
        bare = RunCode(await catalog_with(), TaskPolicy())
        with pytest.raises(CallableNotAllowed, match=r"tasks\.shout"):
            bare.bind("default", workflow=parse_workflow(FLOW))
        with pytest.raises(CallableNotAllowed, match="API key"):
            code.bind("default", workflow=parse_workflow(FLOW), narrowed=("other",))

    asyncio.run(test())


def test_a_flows_check_answers_for_the_binding_and_key_at_hand() -> None:
    """One flow, checked again and again under bindings that provide its module or not and keys
    narrowed to it or not: each check answers for its own binding and key, whatever the checks
    before it answered (no verdict is kept from one check to the next)."""

    async def test() -> None:
        code = RunCode(await catalog_with(version("0.1.0", ("gpu",))), TaskPolicy())
        flow = parse_workflow(FLOW)
        for _ in range(2):
            assert [c.version for c in code.bind("gpu", workflow=flow)] == ["0.1.0"]
            with pytest.raises(CallableNotAllowed, match=r"tasks\.shout"):
                code.bind("cpu", workflow=flow)  # no wheel with my_ext for this tag
            with pytest.raises(CallableNotAllowed, match="API key"):
                code.bind("gpu", workflow=flow, narrowed=("other",))
            assert code.bind("gpu", workflow=flow, narrowed=("my_ext",))
            other = parse_workflow(FLOW.replace(b"my_ext:shout", b"os:getcwd"))
            with pytest.raises(CallableNotAllowed, match="standard library"):
                code.bind("gpu", workflow=other)

    asyncio.run(test())
