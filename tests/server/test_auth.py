"""API keys without a server: the key format, verification, the record codec, the gate."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import re
import time
from typing import Any

import pytest

from pyoco_server.contracts import load_openapi, validate_payload
from pyoco_server.domain import keys
from pyoco_server.domain.codec import API_KEY
from pyoco_server.domain.errors import ContractError, DecodeError
from pyoco_server.domain.keys import Principal
from pyoco_server.domain.records import ApiKey, Role
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway.access import (
    SCOPE_KEY,
    ApiKeyGate,
    Refusal,
    api_key_layer,
    required_roles,
)
from pyoco_server.memory import MemoryBackend
from pyoco_server.services.keys import ApiKeyCache

NOW = 1_700_000_000.0


def issued(role: Role = Role.USER, pepper: str = "") -> tuple[str, ApiKey]:
    return keys.issue("acme", role, pepper, NOW)


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_an_issued_key_has_the_documented_format() -> None:
    plaintext, record = issued()
    match = re.fullmatch(r"pyoco_([0-9a-f]{24})\.([A-Za-z0-9_-]{43})", plaintext)
    assert match, plaintext
    assert match[1] == record.key_id
    assert len(unb64(match[2])) == 32
    assert len(unb64(record.salt)) == 16
    assert len(unb64(record.hash)) == 32
    assert "=" not in record.salt + record.hash
    assert (record.tenant_id, record.role, record.hash_alg) == ("acme", Role.USER, "hmac-sha256")
    assert (record.created_at, record.revoked_at) == (NOW, None)


def test_keys_salts_and_secrets_are_fresh_every_time() -> None:
    first, first_record = issued()
    second, second_record = issued()
    assert first != second
    assert first_record.key_id != second_record.key_id
    assert first_record.salt != second_record.salt


def test_the_record_never_holds_the_secret() -> None:
    plaintext, record = issued()
    secret = plaintext.split(".", 1)[1]
    assert secret not in API_KEY.encode(record).decode()


@pytest.mark.parametrize("tenant", ["", "a b", "x" * 65, "acme.prod", "ü"])
def test_an_invalid_tenant_is_refused(tenant: str) -> None:
    with pytest.raises(ValueError, match="tenant id"):
        keys.issue(tenant, Role.USER, "", NOW)


def test_parse_splits_a_key_into_id_and_secret() -> None:
    plaintext, record = issued()
    parsed = keys.parse(plaintext)
    assert parsed == (record.key_id, plaintext.split(".", 1)[1])


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "pyoco_",
        "pyoco_0123456789abcdef01234567",  # no secret
        "pyoco_0123456789abcdef01234567.",  # empty secret
        "0123456789abcdef01234567.AAAAAAAAAAAAAAAAAAAA",  # no prefix
        "PYOCO_0123456789abcdef01234567.AAAAAAAAAAAAAAAAAAAA",
        "pyoco_short.AAAAAAAAAAAAAAAAAAAA",  # key id under 8 characters
        "pyoco_0123456789abcdef01234567.short",  # secret under 16 characters
        "pyoco_0123456789abcdef01234567.AAAAAAAA+AAAAAAAAAAA",  # not base64url
        "pyoco_0123456789abcdef01234567.AAAAAAAAAAAAAAAAAAAA=",  # padded
        "pyoco_0123456789abcdef01234567.AAAAAAAAAAAAAAAAAAAA\n",
        "pyoco_01234567.89abcdef.AAAAAAAAAAAAAAAAAAAA",
        "pyoco_0123456789abcdef01234567.AAAAAAAAAAAAAAAAAAAA ",
        "pyoco_0123456789abcdef01234567." + "A" * 257,
        "Bearer pyoco_0123456789abcdef01234567.AAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_parse_refuses_anything_not_of_the_key_format(presented: str) -> None:
    assert keys.parse(presented) is None


def test_verify_accepts_the_secret_and_nothing_else() -> None:
    plaintext, record = issued()
    _, secret = keys.parse(plaintext) or ("", "")
    assert keys.verify(record, secret, "")
    assert not keys.verify(record, secret[:-1] + ("A" if secret[-1] != "A" else "B"), "")
    assert not keys.verify(record, secret + "A", "")
    _, other_secret = keys.parse(issued()[0]) or ("", "")
    assert not keys.verify(record, other_secret, "")


def test_verify_with_a_pepper_needs_the_same_pepper() -> None:
    plaintext, record = issued(pepper="server-side-secret")
    _, secret = keys.parse(plaintext) or ("", "")
    assert keys.verify(record, secret, "server-side-secret")
    assert not keys.verify(record, secret, "")
    assert not keys.verify(record, secret, "another-pepper")


def test_the_hash_is_hmac_sha256_keyed_with_salt_and_pepper() -> None:
    plaintext, record = issued(pepper="pep")
    secret = plaintext.split(".", 1)[1]
    expected = hmac.new(unb64(record.salt) + b"pep", secret.encode(), hashlib.sha256).digest()
    assert unb64(record.hash) == expected


def test_a_revoked_key_does_not_verify() -> None:
    plaintext, record = issued()
    _, secret = keys.parse(plaintext) or ("", "")
    revoked = dataclasses.replace(record, revoked_at=NOW + 1)
    assert revoked.revoked
    assert not keys.verify(revoked, secret, "")


def test_a_corrupt_record_does_not_verify() -> None:
    plaintext, record = issued()
    _, secret = keys.parse(plaintext) or ("", "")
    assert not keys.verify(dataclasses.replace(record, hash="!!!"), secret, "")
    assert not keys.verify(dataclasses.replace(record, hash_alg="pbkdf2_hmac_sha256"), secret, "")


def test_verification_is_fast() -> None:
    plaintext, record = issued(pepper="pepper-ish")
    _, secret = keys.parse(plaintext) or ("", "")
    started = time.perf_counter()
    for _ in range(1000):
        assert keys.verify(record, secret, "pepper-ish") is True
    assert time.perf_counter() - started < 0.5  # PBKDF2 at 200k iterations: ~100 ms each


def test_the_record_round_trips_through_the_codec() -> None:
    _, record = keys.issue("acme", Role.ADMIN, "", NOW, description="CI pipeline")
    assert API_KEY.decode(API_KEY.encode(record)) == record
    revoked = dataclasses.replace(record, revoked_at=NOW + 5)
    assert API_KEY.decode(API_KEY.encode(revoked)) == revoked
    validate_payload("ApiKey", API_KEY.to_dict(record))


def test_a_record_breaking_the_schema_is_refused_both_ways() -> None:
    _, record = issued()
    with pytest.raises(ContractError):
        API_KEY.encode(dataclasses.replace(record, tenant_id="no spaces"))
    with pytest.raises(DecodeError) as caught:
        API_KEY.decode(b'{"key_id": "x"}')
    assert caught.value.raw == b'{"key_id": "x"}'


def test_the_principal_names_the_key() -> None:
    _, record = issued(Role.ADMIN)
    principal = keys.principal(record)
    assert principal == Principal(record.key_id, "acme", Role.ADMIN)
    assert principal.requested_by == f"api_key:{record.key_id}"


def test_required_roles_follow_the_spec() -> None:
    roles = required_roles(load_openapi())
    assert "get_health" not in roles
    assert roles["submit_run"] is Role.USER
    assert roles["get_run"] is Role.USER
    for admin_only in (
        "list_workers",
        "update_worker",
        "list_dead_letters",
        "redrive_dead_letter",
        "get_metrics",
    ):
        assert roles[admin_only] is Role.ADMIN


def test_required_roles_with_security_off_are_empty() -> None:
    spec = load_openapi()
    spec["security"] = []
    assert required_roles(spec) == {}


def lookup_of(*records: ApiKey, loaded: bool = True) -> ApiKeyCache:
    """The gateway's key cache on a memory backend storing `records` (loaded, unless told)."""
    backend = MemoryBackend()
    cache = ApiKeyCache(backend)

    async def store_and_load() -> None:
        for record in records:
            await backend.api_keys.create(record)
        if loaded:
            cache.start()
            assert await cache.wait_loaded(5.0)
            await cache.stop()

    asyncio.run(store_and_load())
    assert cache.loaded is loaded
    return cache


def gate_with(*records: ApiKey, loaded: bool = True) -> ApiKeyGate:
    return ApiKeyGate(lookup_of(*records, loaded=loaded), "X-API-Key", "")


def refusal(outcome: Principal | Refusal) -> tuple[int, str]:
    assert isinstance(outcome, Refusal), outcome
    return outcome.status, outcome.reason


def test_the_gate_lets_a_valid_key_through_as_its_principal() -> None:
    plaintext, record = issued()
    assert gate_with(record).check(plaintext, Role.USER) == keys.principal(record)


def test_the_gate_refusals() -> None:
    user_key, user = issued()
    admin_key, admin = issued(Role.ADMIN)
    gate = gate_with(user, admin)
    assert refusal(gate.check(None, Role.USER)) == (401, "api_key_required")
    assert refusal(gate.check("nonsense", Role.USER)) == (403, "api_key_invalid")
    assert refusal(gate.check(issued()[0], Role.USER)) == (403, "api_key_invalid")  # unknown
    wrong_secret = user_key.split(".")[0] + "." + admin_key.split(".")[1]
    assert refusal(gate.check(wrong_secret, Role.USER)) == (403, "api_key_invalid")
    assert refusal(gate.check(user_key, Role.ADMIN)) == (403, "forbidden_role")
    assert gate.check(admin_key, Role.ADMIN) == keys.principal(admin)
    assert gate.check(admin_key, Role.USER) == keys.principal(admin)


def test_the_gate_refuses_a_revoked_key() -> None:
    plaintext, record = issued()
    gate = gate_with(dataclasses.replace(record, revoked_at=NOW))
    assert refusal(gate.check(plaintext, Role.USER)) == (403, "api_key_invalid")


def test_the_gate_answers_503_until_the_keys_are_loaded() -> None:
    plaintext, record = issued()
    outcome = gate_with(record, loaded=False).check(plaintext, Role.USER)
    assert refusal(outcome) == (503, "backend_unavailable")
    assert isinstance(outcome, Refusal)
    assert outcome.headers["Retry-After"].isdigit()


def test_the_gate_reads_its_header_case_insensitively() -> None:
    gate = ApiKeyGate(lookup_of(), "X-Custom-Key", "")
    scope = {"headers": [(b"accept", b"*/*"), (b"x-custom-key", b" pyoco_abc ")]}
    assert gate.presented_key(scope) == "pyoco_abc"
    assert gate.presented_key({"headers": [(b"x-api-key", b"pyoco_abc")]}) is None
    assert gate.presented_key({"headers": [(b"x-custom-key", b"")]}) is None


def call_middleware(scope_extra: dict[str, Any], key: str | None) -> tuple[int, bool]:
    """Send one request through `ApiKeyMiddleware`; (status, whether the app was reached)."""
    plaintext, record = issued()
    reached: list[dict[str, Any]] = []

    async def app(scope: Any, _receive: Any, send: Any) -> None:
        reached.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    layer = api_key_layer(lookup_of(record), load_openapi(), Settings())(app)
    headers = [(b"x-api-key", (plaintext if key == "valid" else key or "").encode())]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers, **scope_extra}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(layer(scope, receive, send))
    if reached:
        assert reached[0].get(SCOPE_KEY) in (None, keys.principal(record))
    return sent[0]["status"], bool(reached)


def routed(operation_id: str | None) -> dict[str, Any]:
    return {"extensions": {"connexion_routing": {"operation_id": operation_id}}}


def test_the_middleware_checks_routed_operations_only() -> None:
    assert call_middleware(routed("get_run"), "valid") == (200, True)
    assert call_middleware(routed("get_run"), None) == (401, False)
    assert call_middleware(routed("list_workers"), "valid") == (403, False)
    assert call_middleware(routed("get_health"), None) == (200, True)
    assert call_middleware(routed(None), None) == (200, True)  # no operation: Connexion's 404


def test_the_middleware_fails_closed_without_routing() -> None:
    assert call_middleware({}, "valid") == (403, False)
    assert call_middleware({}, None) == (401, False)
