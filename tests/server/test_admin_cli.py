"""`pyoco-server-admin api-key`: create, list and revoke keys, as an operator would (a real
nats-server, the admin CLI as a subprocess)."""

from __future__ import annotations

import json
import re
import time

import pytest

from pyoco_server.domain.settings import Settings
from tests.support.cli import Admin, run_admin
from tests.support.processes import free_port


def test_create_prints_the_key_once(admin: Admin) -> None:
    done = admin("api-key", "create", "--tenant", "acme", "--description", "CI")
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert set(created) == {
        "key_id",
        "tenant_id",
        "role",
        "api_key",
        "created_at",
        "revoked_at",
        "description",
        "task_modules",
        "submit_rate_per_sec",
        "submit_burst",
    }
    assert (created["description"], created["submit_rate_per_sec"]) == ("CI", None)
    assert (created["tenant_id"], created["role"], created["task_modules"]) == (
        "acme",
        "user",
        None,
    )
    assert re.fullmatch(r"pyoco_[0-9a-f]{24}\.[A-Za-z0-9_-]{43}", created["api_key"])
    assert created["api_key"].startswith(f"pyoco_{created['key_id']}.")
    listed = admin("api-key", "list")
    assert created["api_key"].split(".")[1] not in listed.stdout


def test_list_is_newest_first_without_hashes_and_filters_by_tenant(admin: Admin) -> None:
    first = json.loads(admin("api-key", "create", "--tenant", "acme").stdout)
    second = json.loads(admin("api-key", "create", "--tenant", "globex", "--role", "admin").stdout)
    third = json.loads(admin("api-key", "create", "--tenant", "acme").stdout)
    done = admin("api-key", "list")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [item["key_id"] for item in listed] == [
        third["key_id"],
        second["key_id"],
        first["key_id"],
    ]
    for item in listed:
        assert set(item) == {
            "key_id",
            "tenant_id",
            "role",
            "created_at",
            "revoked_at",
            "description",
            "task_modules",
            "submit_rate_per_sec",
            "submit_burst",
        }
    assert listed[1]["role"] == "admin"
    acme = json.loads(admin("api-key", "list", "--tenant", "acme").stdout)
    assert [item["key_id"] for item in acme] == [third["key_id"], first["key_id"]]
    assert json.loads(admin("api-key", "list", "--tenant", "nobody").stdout) == []


def test_revoke_is_idempotent(admin: Admin) -> None:
    created = json.loads(admin("api-key", "create", "--tenant", "acme").stdout)
    first = admin("api-key", "revoke", "--key-id", created["key_id"])
    assert first.returncode == 0, first.stderr
    revoked = json.loads(first.stdout)
    assert revoked["key_id"] == created["key_id"]
    assert revoked["revoked_at"] >= created["created_at"]
    again = json.loads(admin("api-key", "revoke", "--key-id", created["key_id"]).stdout)
    assert again == revoked
    listed = json.loads(admin("api-key", "list").stdout)
    assert listed[0]["revoked_at"] == revoked["revoked_at"]


@pytest.mark.parametrize("key_id", ["0123456789abcdef01234567", "no.such>key"])
def test_revoking_an_unknown_key_exits_1_with_a_hint(admin: Admin, key_id: str) -> None:
    done = admin("api-key", "revoke", "--key-id", key_id)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert key_id in lines[0]
    assert "api-key list" in lines[0]


def test_an_invalid_tenant_is_a_usage_error(admin: Admin) -> None:
    done = admin("api-key", "create", "--tenant", "no spaces")
    assert done.returncode == 2
    assert "--tenant" in done.stderr


def test_unreachable_nats_exits_1_naming_the_url(settings: Settings) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = run_admin(settings, "--nats-url", url, "api-key", "list")
    assert time.monotonic() - started < 30
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert url in lines[0]


@pytest.mark.parametrize("modules", ["os", "my ext", "pyoco_server.x"])
def test_task_modules_of_a_key_must_be_modules_that_may_hold_task_code(
    admin: Admin, modules: str
) -> None:
    done = admin("api-key", "create", "--tenant", "acme", "--task-modules", modules)
    assert done.returncode == 2
    assert "--task-modules" in done.stderr


@pytest.mark.parametrize("form", ["whole key", "key id", "--key-id whole key"])
def test_revoke_takes_the_key_id_or_the_whole_key_and_never_prints_the_secret(
    admin: Admin, form: str
) -> None:
    created = json.loads(admin("api-key", "create", "--tenant", "acme").stdout)
    secret = created["api_key"].split(".", 1)[1]
    args = {
        "whole key": [created["api_key"]],
        "key id": [created["key_id"]],
        "--key-id whole key": ["--key-id", created["api_key"]],
    }[form]
    done = admin("api-key", "revoke", *args)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["key_id"] == created["key_id"]
    assert json.loads(done.stdout)["revoked_at"] is not None
    assert secret not in done.stdout + done.stderr


def test_revoking_an_unknown_whole_key_names_only_its_id(admin: Admin) -> None:
    key = "pyoco_0123456789abcdef01234567.c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw"
    done = admin("api-key", "revoke", key)
    assert done.returncode == 1
    assert "0123456789abcdef01234567" in done.stderr
    assert "c2VjcmV0" not in done.stdout + done.stderr
    clash = admin("api-key", "revoke", key, "--key-id", "ffffffffffffffffffffffff")
    assert clash.returncode == 2
    assert "c2VjcmV0" not in clash.stdout + clash.stderr
    missing = admin("api-key", "revoke")
    assert missing.returncode == 2
    assert "name the key to revoke" in missing.stderr
