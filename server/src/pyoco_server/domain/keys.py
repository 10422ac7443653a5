"""API keys and callers: the key format, issuing and verifying keys, the principal (no NATS here).

A key reads `pyoco_<key_id>.<secret>`. The key id (24 hex characters) names the record in the
`pyoco_auth` bucket; the secret (32 random bytes, base64url without padding) is shown once, when
the key is issued, and only a keyed hash of it is stored:
`hash = HMAC-SHA256(key = salt + PYOCO_AUTH_PEPPER, msg = secret)`.

The original pyoco-server ran 200,000 PBKDF2 iterations on every request. A slow hash protects
guessable passwords; these secrets are 256 random bits, which no guessing reaches, so one HMAC
(a few microseconds) gives the same protection.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import math
import re
import secrets

from pyoco_server.domain.records import API_KEY_HASH_ALG, ApiKey, Role

KEY_PREFIX = "pyoco_"
HASH_ALG = API_KEY_HASH_ALG
TENANT_RULE = "1 to 64 letters, digits, '_' or '-'"

_TENANT = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_KEY = re.compile(r"pyoco_([A-Za-z0-9_-]{8,64})\.([A-Za-z0-9_-]{16,256})")
_SALT_BYTES = 16
_SECRET_BYTES = 32


def is_tenant_id(value: str) -> bool:
    """True when `value` is a valid tenant id."""
    return _TENANT.fullmatch(value) is not None


def is_key_id(value: str) -> bool:
    """True when `value` could be a key id (the part of a key between `pyoco_` and the dot)."""
    return _KEY_ID.fullmatch(value) is not None


def issue(
    tenant_id: str,
    role: Role,
    pepper: str,
    now: float,
    description: str | None = None,
    task_modules: tuple[str, ...] | None = None,
    submit_limit: SubmitLimit | None = None,
) -> tuple[str, ApiKey]:
    """A new key: its plaintext (show it once) and the record to store.

    Raises:
        ValueError: `tenant_id` is not a valid tenant id.
    """
    if not is_tenant_id(tenant_id):
        raise ValueError(f"tenant id {tenant_id!r} is invalid: expected {TENANT_RULE}")
    limit = submit_limit or SubmitLimit()
    key_id = secrets.token_hex(12)
    secret = _b64(secrets.token_bytes(_SECRET_BYTES))
    salt = secrets.token_bytes(_SALT_BYTES)
    record = ApiKey(
        key_id=key_id,
        tenant_id=tenant_id,
        role=role,
        salt=_b64(salt),
        hash=_b64(_digest(salt, pepper, secret)),
        created_at=now,
        description=description,
        task_modules=task_modules,
        submit_rate_per_sec=limit.rate_per_sec,
        submit_burst=limit.burst,
    )
    return f"{KEY_PREFIX}{key_id}.{secret}", record


def parse(presented: str) -> tuple[str, str] | None:
    """The key id and secret of a presented key, or None when it is not of the key format."""
    match = _KEY.fullmatch(presented)
    return (match[1], match[2]) if match else None


def verify(record: ApiKey, secret: str, pepper: str) -> bool:
    """True when `secret` belongs to `record` and the key is not revoked (constant-time)."""
    if record.revoked or record.hash_alg != HASH_ALG:
        return False
    try:
        salt = _unb64(record.salt)
        expected = _unb64(record.hash)
    except ValueError:
        return False
    return hmac.compare_digest(_digest(salt, pepper, secret), expected)


def _digest(salt: bytes, pepper: str, secret: str) -> bytes:
    return hmac.new(salt + pepper.encode(), secret.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Decode unpadded base64url (ValueError, binascii.Error included, when it is not)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def principal(record: ApiKey) -> Principal:
    """The caller `record`'s key stands for."""
    return Principal(
        key_id=record.key_id,
        tenant_id=record.tenant_id,
        role=record.role,
        task_modules=record.task_modules,
        submit_limit=(
            SubmitLimit(record.submit_rate_per_sec, record.submit_burst)
            if record.submit_rate_per_sec is not None
            else None
        ),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class SubmitLimit:
    """A key's own submit rate limit (`pyoco-server-admin api-key create --submit-rate-per-sec`).

    Raises:
        ValueError: the rate is not above 0, the burst not 1 or more, or a burst without a rate.
    """

    rate_per_sec: float | None = None
    burst: int | None = None
    """None: the gateway's PYOCO_SUBMIT_BURST."""

    def __post_init__(self) -> None:
        if self.rate_per_sec is None:
            if self.burst is not None:
                raise ValueError("a submit burst needs a submit rate to go with it")
            return
        if not math.isfinite(self.rate_per_sec) or self.rate_per_sec <= 0:
            raise ValueError("the submit rate must be a number of runs a second above 0")
        if self.burst is not None and self.burst < 1:
            raise ValueError("the submit burst must be 1 or more")


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a valid API key."""

    key_id: str
    tenant_id: str
    role: Role
    task_modules: tuple[str, ...] | None = None
    """When the key narrows them, the only task modules its runs may use."""
    submit_limit: SubmitLimit | None = None
    """The key's own submit rate limit, when it has one (else its tenant's applies)."""

    @property
    def requested_by(self) -> str:
        """How the caller is named in records (`cancel_requested_by`)."""
        return f"api_key:{self.key_id}"

    def may(self, required: Role | None) -> bool:
        """True when this principal has the role an operation requires."""
        return required is None or required is Role.USER or self.role is Role.ADMIN
