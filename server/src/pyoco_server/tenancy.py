"""Who is calling: the principal an API key stands for (absent when API keys are off)."""

from __future__ import annotations

import dataclasses
import enum


class Role(enum.StrEnum):
    """What a key may do.

    `user` keys work with their tenant's runs; `admin` keys also with workers, dead letters and
    metrics (the operations marked `x-pyoco-role: admin` in openapi.yaml).
    """

    ADMIN = "admin"
    USER = "user"


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a valid API key."""

    key_id: str
    tenant_id: str
    role: Role

    @property
    def requested_by(self) -> str:
        """How the caller is named in records (`cancel_requested_by`)."""
        return f"api_key:{self.key_id}"

    def may(self, required: Role | None) -> bool:
        """True when this principal has the role an operation requires."""
        return required is None or required is Role.USER or self.role is Role.ADMIN
