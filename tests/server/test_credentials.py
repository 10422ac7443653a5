"""Which NATS credentials a process connects with (`jetstream._credentials`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream._credentials import credentials_for


def settings(**env: str) -> Settings:
    return Settings.from_env({"PYOCO_LOAD_DOTENV": "0", **env})


def role_files(directory: Path) -> Path:
    directory.mkdir(parents=True)
    for role in ("admin", "gateway", "worker"):
        (directory / f"{role}.json").write_text(
            json.dumps({"user": role, "password": f"pw-{role}"})
        )
    return directory


def test_settings_win_in_order_creds_token_user(tmp_path: Path) -> None:
    auth = str(role_files(tmp_path / "auth"))
    everything = {
        "PYOCO_NATS_CREDS": "/etc/x.creds",
        "PYOCO_NATS_TOKEN": "t",
        "PYOCO_NATS_USER": "u",
        "PYOCO_NATS_PASSWORD": "p",
        "PYOCO_NATS_AUTH_DIR": auth,
    }
    assert credentials_for(settings(**everything), "worker").connect_options() == {
        "inbox_prefix": "_INBOX",
        "user_credentials": "/etc/x.creds",
    }
    del everything["PYOCO_NATS_CREDS"]
    assert credentials_for(settings(**everything), "worker").token == "t"
    del everything["PYOCO_NATS_TOKEN"]
    chosen = credentials_for(settings(**everything), "worker")
    assert (chosen.user, chosen.password, chosen.source) == ("u", "p", "PYOCO_NATS_USER")
    assert chosen.may_manage_resources


@pytest.mark.parametrize("role", ["admin", "gateway", "worker"])
def test_a_role_finds_its_generated_user(tmp_path: Path, role: str) -> None:
    auth = role_files(tmp_path / "auth")
    chosen = credentials_for(settings(PYOCO_NATS_AUTH_DIR=str(auth)), role)
    assert (chosen.user, chosen.password) == (role, f"pw-{role}")
    assert chosen.inbox_prefix == f"_INBOX_{role}"
    assert chosen.source == str(auth / f"{role}.json")
    # Only the admin user may create streams; the others check that they exist.
    assert chosen.may_manage_resources is (role == "admin")


def test_the_default_directory_is_the_one_up_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert credentials_for(settings(), "worker").source == "none"
    role_files(tmp_path / ".pyoco" / "nats" / "auth")
    assert credentials_for(settings(), "worker").user == "worker"


@pytest.mark.parametrize("content", ["not json", "[]", '{"password": "x"}'])
def test_an_unusable_role_file_means_no_credentials(tmp_path: Path, content: str) -> None:
    auth = tmp_path / "auth"
    auth.mkdir()
    (auth / "worker.json").write_text(content)
    chosen = credentials_for(settings(PYOCO_NATS_AUTH_DIR=str(auth)), "worker")
    assert (chosen.user, chosen.source) == (None, "none")
