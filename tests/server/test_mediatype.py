"""A request's media type is read without regard to case (gateway/mediatype.py).

Before, `Content-Type: Application/JSON` found no body schema in Connexion (whose media-type
matching has case), so the body reached the submit handler unvalidated and it failed with 500.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import create_app
from pyoco_server.gateway.mediatype import MediaTypeCase
from pyoco_server.memory import MemoryBackend

FLOW_YAML = (
    "version: 1\nflow:\n  graph: |\n    add_one >> to_text\ntasks:\n"
    "  add_one:\n    callable: pyoco_server._workflow_test_tasks:add_one\n"
    "  to_text:\n    callable: pyoco_server._workflow_test_tasks:to_text\n"
)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = Settings()
    with TestClient(create_app(settings, MemoryBackend(settings))) as test_client:
        yield test_client


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "Application/Json; charset=UTF-8"])
def test_a_json_body_is_validated_whatever_the_case_of_its_media_type(
    client: TestClient, content_type: str
) -> None:
    for body, detail in [
        (b'{"flow_name": 5}', "5 is not of type 'string' - 'flow_name'"),
        (b'{"flow_name": "main", "params": [1]}', "[1] is not of type 'object' - 'params'"),
    ]:
        refused = client.post("/runs", content=body, headers={"Content-Type": content_type})
        assert refused.status_code == 400, refused.text
        assert refused.json()["detail"] == detail
    accepted = client.post(
        "/runs", content=b'{"flow_name": "main"}', headers={"Content-Type": content_type}
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["flow_name"] == "main"


def test_a_form_is_read_whatever_the_case_of_its_media_type(client: TestClient) -> None:
    boundary = "Mixed-Case-Boundary"  # parameters keep their case: the boundary must match
    part = f"--{boundary}\r\nContent-Disposition: form-data; name="
    body = (
        f'{part}"flow_name"\r\n\r\nmain\r\n'
        f'{part}"workflow"; filename="flow.yaml"\r\nContent-Type: application/yaml\r\n\r\n'
        f"{FLOW_YAML}\r\n--{boundary}--\r\n"
    ).encode()
    answer = client.post(
        "/runs/yaml",
        content=body,
        headers={"Content-Type": f"Multipart/Form-Data; boundary={boundary}"},
    )
    assert answer.status_code == 201, answer.text


def test_an_unknown_media_type_is_still_refused(client: TestClient) -> None:
    answer = client.post("/runs", content=b"{}", headers={"Content-Type": "TEXT/Plain"})
    assert answer.status_code == 415
    assert "text/plain" in answer.json()["detail"]


async def _capture(scope: dict, receive: object, send: object) -> None:
    _capture.seen = scope  # type: ignore[attr-defined]


def test_only_the_media_type_of_content_type_is_lowered() -> None:
    import asyncio

    layer = MediaTypeCase(_capture)
    headers = [
        (b"host", b"Example"),
        (b"content-type", b"Multipart/Form-Data; Boundary=AbC; charset=UTF-8"),
    ]
    asyncio.run(layer({"type": "http", "headers": headers}, None, None))
    assert _capture.seen["headers"] == [  # type: ignore[attr-defined]
        (b"host", b"Example"),
        (b"content-type", b"multipart/form-data; Boundary=AbC; charset=UTF-8"),
    ]
    lowered = [(b"content-type", b"application/json")]
    scope = {"type": "http", "headers": lowered}
    asyncio.run(layer(scope, None, None))
    assert _capture.seen is scope, "a scope with nothing to lower is passed on as it is"  # type: ignore[attr-defined]
