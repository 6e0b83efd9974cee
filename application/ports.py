"""What the application needs from the outside world, as interfaces the composition root fills."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

T = TypeVar("T")
R = TypeVar("R")


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SecretBox(Protocol):
    """Seals secrets (API keys, client secrets) before they reach an event; opens them to call the OPCO."""

    def seal(self, secret: str) -> str: ...

    def open(self, sealed: str) -> str: ...

    def digest(self, secret: str) -> str:
        """A keyed fingerprint of `secret` (the same secret, the same digest): what an Idempotency-Key record keeps
        of a request that carries a secret, so that the store holds no clear text nor a plain hash of it."""
        ...


@dataclass(frozen=True, slots=True)
class DpopKeyMaterial:
    """A key signing DPoP proofs (RFC 9449): the private JWK (JSON, to be sealed), its public JWK, its RFC 7638
    thumbprint and the algorithm it signs with."""

    private_jwk: str = field(repr=False)
    public_jwk: dict[str, Any]
    thumbprint: str
    alg: str


class DpopKeys(Protocol):
    def generate(self, alg: str) -> DpopKeyMaterial: ...

    def load(self, private_key: str | dict[str, Any]) -> DpopKeyMaterial:
        """From a PEM text or a JWK (object or JSON text); ValueError saying why when it is not a usable private
        key."""
        ...


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


class FanOut(Protocol):
    """Runs `task` over `items`, possibly several at a time, and gives the results in the items' order: what a
    sync uses to poll the OPCO accounts, each independent of the others."""

    def __call__(self, task: Callable[[T], R], items: Iterable[T]) -> list[R]: ...


def one_at_a_time(task: Callable[[T], R], items: Iterable[T]) -> list[R]:
    return [task(item) for item in items]
