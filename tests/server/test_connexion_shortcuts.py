"""The gateway's shortcuts through Connexion (gateway/_connexion.py) give the same results.

Submits skip Connexion's parameter decorator: their handlers get the body (or the form's
arguments) the request validator already parsed. Each check here makes the same request once
through the shortcut and once through Connexion's own decorator, and compares what the handler
received and what the client got. The remembered `body_definition` answers as Connexion's.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Iterator
from typing import Any

import pytest
from connexion.decorators import parameter
from connexion.operations import OpenAPIOperation
from starlette.datastructures import UploadFile
from starlette.testclient import TestClient

from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import _connexion, _validators, create_app
from pyoco_server.gateway.handlers.runs import RunsApi
from pyoco_server.memory import MemoryBackend
from tests.support.flows import FLOW_YAML


def test_the_connexion_functions_the_shortcuts_call_exist() -> None:
    typed = inspect.signature(parameter._get_typed_body_values).parameters
    assert list(typed) == ["body_arg", "body_props", "additional_props"], "_get_typed_body_values"
    form = inspect.getsource(parameter._get_body_argument_form)
    assert "_get_typed_body_values(body_arg, body_props, additional_props)" in form, (
        "_get_body_argument_form, which _multipart.form_arguments does with what it reads once"
    )
    files = inspect.signature(parameter._get_file_arguments).parameters
    assert list(files)[:3] == ["files", "arguments", "body_schema"], "_get_file_arguments"
    assert getattr(OpenAPIOperation.body_definition, "remembered", False)


Received = list[dict[str, Any]]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Received:
    """What the submit handlers receive, as plain values."""
    received: Received = []
    for name in ("submit_run", "submit_run_yaml"):
        handler = getattr(RunsApi, name)

        @functools.wraps(handler)
        async def recording(
            self: RunsApi, *args: Any, handler: Any = handler, **kwargs: Any
        ) -> Any:
            seen = dict(zip(list(inspect.signature(handler).parameters)[1:], args, strict=False))
            seen.update(kwargs)
            received.append({k: await _plain(v) for k, v in seen.items()})
            return await handler(self, *args, **kwargs)

        monkeypatch.setattr(RunsApi, name, recording)
    return received


async def _plain(value: Any) -> Any:
    if isinstance(value, UploadFile):
        content = await value.read()
        await value.seek(0)
        return ("file", value.filename, content)
    return value


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = Settings()
    with TestClient(create_app(settings, MemoryBackend(settings))) as test_client:
        yield test_client


def _without_shortcuts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave nothing parsed in the scope: the handlers then go through Connexion's decorator."""
    monkeypatch.setattr(_validators, "PARSED_BODY", "unused.body")
    monkeypatch.setattr(_validators, "PARSED_FORM", "unused.form")

    def shortcut(*args: Any) -> Any:
        raise AssertionError("the form's shortcut was taken")

    monkeypatch.setattr(_connexion, "form_arguments", shortcut)


FORMS = [
    {"flow_name": "main"},
    {"flow_name": "main", "params": '{"x": 2}', "tag": "default", "tags": "a,b"},
    {"flow_name": "main", "timeout_sec": "12.5", "retry": '{"max_attempts": 2}', "params": " "},
    {"flow_name": "main", "requires": "", "tags": ""},
]
BODIES = [
    {"flow_name": "main"},
    {"flow_name": "main", "params": {"x": 2, "y": [1, {"z": None}]}, "tags": ["a"]},
    {"flow_name": "main", "timeout_sec": 3, "retry": {"max_attempts": 2, "backoff_sec": 0.5}},
]


def _requests(client: TestClient) -> list[tuple[int, Any]]:
    answers = []
    for form in FORMS:
        files = {"workflow": ("flow.yaml", FLOW_YAML)}
        response = client.post("/runs/yaml", data=form, files=files)
        answers.append((response.status_code, _stable(response.json())))
    for body in BODIES:
        response = client.post("/runs", json=body)
        answers.append((response.status_code, _stable(response.json())))
    response = client.post(
        "/runs",
        content=json.dumps({"flow_name": 3}).encode(),
        headers={"Content-Type": "application/json"},
    )
    answers.append((response.status_code, _stable(response.json())))
    return answers


def _stable(answer: Any) -> Any:
    """The answer without what differs between two runs (ids and times)."""
    if isinstance(answer, dict):
        return {
            k: _stable(v)
            for k, v in answer.items()
            if k not in {"run_id", "submitted_at", "updated_at", "instance"}
        }
    return answer


def test_submits_get_what_connexion_would_give_them(
    recorded: Received, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings()
    with TestClient(create_app(settings, MemoryBackend(settings))) as client:
        shortcut = _requests(client)
    through_shortcut = list(recorded)
    recorded.clear()
    _without_shortcuts(monkeypatch)
    with TestClient(create_app(settings, MemoryBackend(settings))) as client:
        through_connexion = _requests(client)
    assert through_shortcut == recorded
    assert shortcut == through_connexion
    assert len(recorded) == len(FORMS) + len(BODIES)


def test_the_remembered_body_definition_is_connexions(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    remembered = OpenAPIOperation.body_definition

    def recording(self: OpenAPIOperation, content_type: str | None = None) -> Any:
        definition = remembered(self, content_type)
        seen.append((self, content_type, definition))
        return definition

    monkeypatch.setattr(OpenAPIOperation, "body_definition", recording)
    _requests(client)
    assert {content_type for _, content_type, _ in seen} >= {None, "multipart/form-data"}
    for operation, content_type, definition in seen:
        assert definition == _connexion.COMPUTED_BODY_DEFINITION(operation, content_type)


@pytest.mark.parametrize("shortcuts", [True, False], ids=["shortcuts", "connexion"])
def test_a_file_part_without_a_file_name_is_read_as_text_or_refused_with_a_hint(
    shortcuts: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`curl -F 'workflow=<flow.yaml'` sends the file as a field: a flow.yaml so sent is read
    (it is text); a wheel is refused with the form to use, not a 500."""
    if not shortcuts:
        _without_shortcuts(monkeypatch)
    settings = Settings()
    with TestClient(create_app(settings, MemoryBackend(settings))) as client:
        parts = {"flow_name": (None, b"main"), "workflow": (None, FLOW_YAML)}
        submitted = client.post("/runs/yaml", files=parts)
        assert submitted.status_code == 201, submitted.text
        refused = client.post("/wheels", files={"wheel": (None, b"not a file")})
    assert refused.status_code == 400
    assert "curl -F wheel=@" in refused.json()["detail"]
