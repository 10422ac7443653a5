"""What a wheel upload must be and which versions runs get (domain/wheels.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyoco_server.domain.errors import InvalidRequirement, InvalidWheel
from pyoco_server.domain.records import WheelIndexRecord, WheelVersion
from pyoco_server.domain.wheels import (
    current_versions,
    inspect_wheel,
    newer,
    parse_requirement,
    parse_tags,
    parse_wheel_name,
)
from tests.support.wheels import wheel_bytes

NAME = "my_ext-0.1.0-py3-none-any.whl"


def write(tmp_path: Path, data: bytes, name: str = NAME) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_wheel_is_read_without_installing_it(tmp_path: Path) -> None:
    data = wheel_bytes(
        files={
            "my_ext/__init__.py": "",
            "my_ext/tasks.py": "",
            "helper.py": "",
            "fast.cpython-311-x86_64-linux-gnu.so": "",
            "my_ext-0.1.0.data/purelib/extra/__init__.py": "",
            "my_ext-0.1.0.data/scripts/tool": "",
            "README.txt": "",
        },
        requires=("requests>=2",),
    )
    info = inspect_wheel(write(tmp_path, data), NAME)
    assert (info.name.distribution, info.name.version) == ("my-ext", "0.1.0")
    assert info.modules == ("extra", "fast", "helper", "my_ext")
    assert info.requires_dist == ("requests>=2",)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"not a zip at all", "not a zip"),
        (wheel_bytes(metadata=False), "METADATA"),
        (wheel_bytes(metadata_name="other_ext"), "Name"),
        (wheel_bytes(metadata_version="0.2.0"), "Version"),
        (wheel_bytes(files={"subprocess.py": ""}), "shadow"),
        (wheel_bytes(files={"os/__init__.py": ""}), "shadow"),
        (wheel_bytes(files={"pyoco_server/evil.py": ""}), "shadow"),
    ],
    ids=["not-zip", "no-metadata", "name", "version", "stdlib-module", "stdlib-package", "ours"],
)
def test_an_upload_that_is_not_the_wheel_it_says_is_refused(
    tmp_path: Path, data: bytes, words: str
) -> None:
    with pytest.raises(InvalidWheel, match=words) as caught:
        inspect_wheel(write(tmp_path, data), NAME)
    assert caught.value.reason == "invalid_wheel"


@pytest.mark.parametrize("name", ["x.whl", "a/b-1.0-py3-none-any.whl", "my_ext.tar.gz", "x-y.whl"])
def test_names_that_are_not_wheel_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidWheel) as caught:
        parse_wheel_name(name)
    assert caught.value.reason == "invalid_wheel_name"


def test_tags_are_checked_and_deduplicated() -> None:
    assert parse_tags(" cpu, linux ,cpu,") == ("cpu", "linux")
    assert parse_tags(None) == ()
    with pytest.raises(InvalidWheel) as caught:
        parse_tags("cpu,not a tag")
    assert caught.value.reason == "invalid_tags"


def test_only_strictly_higher_versions_are_newer() -> None:
    assert newer("0.2.0", ["0.1.0", "0.1.9"])
    assert newer("1.0", [])
    assert not newer("0.1.0", ["0.1.0"])
    assert not newer("0.1", ["0.1.0"])  # the same version, spelled differently
    assert not newer("0.0.9", ["0.1.0"])


def version(number: str, tags: tuple[str, ...] = (), deleted: bool = False) -> WheelVersion:
    return WheelVersion(
        version=number,
        wheel=f"my_ext-{number}-py3-none-any.whl",
        sha256=number.replace(".", "").ljust(64, "0"),
        size_bytes=1,
        tags=tags,
        modules=("my_ext",),
        uploaded_at=1.0,
        deleted_at=5.0 if deleted else None,
    )


def test_a_run_gets_the_newest_version_available_to_its_tag() -> None:
    index = {
        "my-ext": WheelIndexRecord(
            "my-ext",
            (version("0.1.0"), version("0.2.0", ("gpu",)), version("0.3.0", deleted=True)),
        ),
        "other": WheelIndexRecord("other", (version("1.0", ("gpu",)),)),
    }
    assert [(c.distribution, c.version) for c in current_versions(index, "cpu")] == [
        ("my-ext", "0.1.0")
    ]
    assert [(c.distribution, c.version) for c in current_versions(index, "gpu")] == [
        ("my-ext", "0.2.0"),
        ("other", "1.0"),
    ]


def test_a_pin_is_one_exact_version() -> None:
    assert parse_requirement("My_Ext==0.1.0") == ("my-ext", "0.1.0")
    for bad in ("my_ext>=0.1", "my_ext", "my_ext==0.1; python_version<'3'", "==1"):
        with pytest.raises(InvalidRequirement):
            parse_requirement(bad)
