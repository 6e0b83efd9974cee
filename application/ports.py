"""What the application needs from the outside world, as interfaces the composition root fills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SecretBox(Protocol):
    """Seals secrets (API keys, client secrets) before they reach an event; opens them to call the OPCO."""

    def seal(self, secret: str) -> str: ...

    def open(self, sealed: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Contact:
    """The last exchange with an OPCO on behalf of a CFA (operational data, not an event)."""

    last_contact_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


class ContactLog(Protocol):
    def record(self, cfa_siret: str, opco: str, at: datetime, error: str | None) -> None: ...

    def get(self, cfa_siret: str, opco: str) -> Contact | None: ...


class TokenRevocations(Protocol):
    """Tells the caches of checked tokens, this process's and the other processes', that a token was revoked."""

    def announce(self, token_id: UUID) -> None: ...
