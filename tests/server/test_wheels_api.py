"""The wheel registry over HTTP: uploads and their checks, listing, downloads, deletions, history.

A real gateway process on a real nats-server (JetStream Object Store and KV); wheels are zips
written by the test (`tests.support.wheels.wheel_bytes`), which is all the registry looks at.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyoco_server.domain.settings import Settings
from tests.support.cli import create_key
from tests.support.processes import Gateway, start_gateway
from tests.support.wheels import upload, wheel_bytes

PROBLEM = "application/problem+json"


@pytest.fixture
def client(gateway: Gateway) -> Iterator[httpx.Client]:
    with gateway.client() as client:
        yield client


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def test_an_upload_is_stored_listed_and_downloaded_byte_for_byte(client: httpx.Client) -> None:
    data = wheel_bytes("my_ext", "0.1.0")
    response = upload(client, data, "my_ext-0.1.0-py3-none-any.whl", tags="gpu, cpu")
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["name"] == "my_ext-0.1.0-py3-none-any.whl"
    assert (stored["distribution"], stored["version"]) == ("my-ext", "0.1.0")
    assert stored["sha256_hex"] == hashlib.sha256(data).hexdigest()
    assert stored["size_bytes"] == len(data)
    assert stored["tags"] == ["gpu", "cpu"]  # as given, blanks dropped
    assert stored["modules"] == ["my_ext"]
    assert client.get("/wheels").json() == [stored]
    downloaded = client.get(f"/wheels/{stored['name']}")
    assert downloaded.status_code == 200
    assert downloaded.content == data


@pytest.mark.parametrize("version", ["0.1.0", "0.0.9", "0.1.0rc1"])
def test_equal_and_older_versions_are_409(client: httpx.Client, version: str) -> None:
    assert (
        upload(client, wheel_bytes("my_ext", "0.1.0"), "my_ext-0.1.0-py3-none-any.whl").status_code
        == 201
    )
    name = f"my_ext-{version}-py3-none-any.whl"
    body = problem(upload(client, wheel_bytes("my_ext", version), name), 409)
    assert "0.1.0" in body["detail"]
    assert [item["version"] for item in client.get("/wheels").json()] == ["0.1.0"]


def race(gateway: Gateway, name: str, bodies: list[bytes]) -> list[int]:
    """Upload `bodies` as `name` at once, one connection each; the statuses, sorted."""
    start = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def send(body: bytes) -> None:
        with gateway.client() as own:
            start.wait()
            statuses.append(upload(own, body, name).status_code)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_two_concurrent_uploads_of_one_version_give_one_201_and_one_409(
    client: httpx.Client, gateway: Gateway
) -> None:
    for round_ in range(5):  # several rounds: the race must be decided the same way each time
        version = f"1.{round_}"
        name = f"my_ext-{version}-py3-none-any.whl"
        bodies = [
            wheel_bytes("my_ext", version, files={"my_ext/__init__.py": f"# {n}\n"}) for n in (1, 2)
        ]
        assert race(gateway, name, bodies) == [201, 409]
        (listed,) = [item for item in client.get("/wheels").json() if item["version"] == version]
        assert listed["sha256_hex"] in {hashlib.sha256(body).hexdigest() for body in bodies}
        assert client.get(f"/wheels/{name}").content in bodies
    history = client.get("/wheels/history").json()
    assert [event["action"] for event in history] == ["upload"] * 5


def _zip_without_metadata() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("my_ext/__init__.py", "")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "words"),
    [
        ("my_ext-0.1.0-py3-none-any.whl", b"not a zip at all", "not a zip"),
        ("my_ext-0.1.0-py3-none-any.whl", _zip_without_metadata(), "METADATA"),
        (
            "my_ext-0.1.0-py3-none-any.whl",
            wheel_bytes("my_ext", "0.1.0", metadata_version="0.2.0"),
            "0.2.0",
        ),
        (
            "my_ext-0.1.0-py3-none-any.whl",
            wheel_bytes("my_ext", "0.1.0", metadata_name="other_ext"),
            "other_ext",
        ),
        ("my_ext.zip", wheel_bytes(), ".whl"),
        ("my_ext-not-a-version-py3-none-any.whl", wheel_bytes(), "version"),
    ],
    ids=["not-zip", "no-metadata", "version-mismatch", "name-mismatch", "not-whl", "bad-version"],
)
def test_a_bad_upload_is_4xx_and_stores_nothing(
    client: httpx.Client, filename: str, data: bytes, words: str
) -> None:
    response = upload(client, data, filename)
    body = problem(response, 422) if response.status_code == 422 else problem(response, 400)
    assert words in body["detail"], body
    assert client.get("/wheels").json() == []


def test_a_path_in_the_file_name_is_dropped(client: httpx.Client) -> None:
    response = upload(client, wheel_bytes(), "../../my_ext-0.1.0-py3-none-any.whl")
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "my_ext-0.1.0-py3-none-any.whl"


@pytest.mark.parametrize("tags", ["no spaces allowed", "a" * 200, "x,,y,*"])
def test_bad_tags_are_refused(client: httpx.Client, tags: str) -> None:
    response = upload(client, wheel_bytes(), "my_ext-0.1.0-py3-none-any.whl", tags=tags)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert client.get("/wheels").json() == []


def test_a_wheel_over_the_size_limit_is_413(settings: Settings, tmp_path: Path) -> None:
    gateway = start_gateway(settings, tmp_path, PYOCO_WHEEL_MAX_BYTES="100000")
    try:
        with gateway.client() as client:
            big = wheel_bytes(files={"my_ext/__init__.py": "x = '" + "y" * 300_000 + "'\n"})
            body = problem(upload(client, big, "my_ext-0.1.0-py3-none-any.whl"), 413)
            assert "PYOCO_WHEEL_MAX_BYTES" in body["detail"]
            assert client.get("/wheels").json() == []
    finally:
        gateway.process.stop()


def test_no_replace_refuses_a_second_version(client: httpx.Client) -> None:
    assert (
        upload(client, wheel_bytes("my_ext", "1.0"), "my_ext-1.0-py3-none-any.whl").status_code
        == 201
    )
    response = upload(
        client, wheel_bytes("my_ext", "2.0"), "my_ext-2.0-py3-none-any.whl", replace=False
    )
    assert "replace" in problem(response, 409)["detail"]


def test_deleting_the_newest_version_makes_the_previous_one_current(client: httpx.Client) -> None:
    for version in ("1.0", "2.0"):
        name = f"my_ext-{version}-py3-none-any.whl"
        assert upload(client, wheel_bytes("my_ext", version), name).status_code == 201
    response = client.delete("/wheels/my_ext-2.0-py3-none-any.whl")
    assert response.status_code == 200, response.text
    assert response.json()["current_version"] == "1.0"
    assert [item["version"] for item in client.get("/wheels").json()] == ["1.0"]
    problem(client.get("/wheels/my_ext-2.0-py3-none-any.whl"), 404)
    problem(client.delete("/wheels/my_ext-2.0-py3-none-any.whl"), 404)
    # A deleted version cannot come back under its number: versions only go up.
    problem(upload(client, wheel_bytes("my_ext", "2.0"), "my_ext-2.0-py3-none-any.whl"), 409)


def test_history_records_who_and_from_where(client: httpx.Client) -> None:
    headers = {"X-Forwarded-For": "203.0.113.9", "User-Agent": "ci-uploader/1.0"}
    name = "my_ext-1.0-py3-none-any.whl"
    assert upload(client, wheel_bytes("my_ext", "1.0"), name, headers=headers).status_code == 201
    assert client.delete(f"/wheels/{name}", headers=headers).status_code == 200
    events = client.get("/wheels/history").json()
    assert [event["action"] for event in events] == ["delete", "upload"]
    upload_event = events[1]
    assert upload_event["wheel_name"] == name
    assert upload_event["source"]["x_forwarded_for"] == "203.0.113.9"
    assert upload_event["source"]["user_agent"] == "ci-uploader/1.0"
    # The gateway trusts forwarding headers from loopback (uvicorn's default): the address is
    # the one the proxy names.
    assert upload_event["source"]["remote_addr"] == "203.0.113.9"
    assert client.get("/wheels/history", params={"action": "delete"}).json() == events[:1]
    assert client.get("/wheels/history", params={"limit": 1}).json() == events[:1]
    assert (
        client.get("/wheels/history", params={"wheel_name": "other-1.0-py3-none-any.whl"}).json()
        == []
    )


def test_with_keys_on_only_admin_keys_change_the_registry(
    settings: Settings, tmp_path: Path
) -> None:
    gateway = start_gateway(settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key")
    user = {"X-API-Key": create_key(settings, tenant="acme", role="user")}
    admin = {"X-API-Key": create_key(settings, tenant="ops", role="admin")}
    name = "my_ext-1.0-py3-none-any.whl"
    try:
        with gateway.client() as client:
            problem(upload(client, wheel_bytes("my_ext", "1.0"), name, headers=user), 403)
            assert (
                upload(client, wheel_bytes("my_ext", "1.0"), name, headers=admin).status_code == 201
            )
            assert [item["name"] for item in client.get("/wheels", headers=user).json()] == [name]
            assert client.get(f"/wheels/{name}", headers=user).status_code == 200
            problem(client.get("/wheels/history", headers=user), 403)
            problem(client.delete(f"/wheels/{name}", headers=user), 403)
            (event,) = client.get("/wheels/history", headers=admin).json()
            assert event["actor"]["tenant_id"] == "ops"
            assert event["actor"]["api_key_id"]
    finally:
        gateway.process.stop()
