"""Who may do what: API tokens (stored as hashes only), roles, and the principal a request acts as."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from application.errors import Forbidden, TokenRevoked
from domain.copying import CopiedByPickle
from domain.ids import named_id

TOKEN_PREFIX = "cvg_"
DEFAULT_TOKEN_LIFETIME = timedelta(days=90)  # the settings' default too (CONVERGENCE_TOKEN_LIFETIME_DAYS)


class Role(StrEnum):
    FRONTEND = "frontend"
    AUDITOR = "auditor"
    ADMIN = "admin"


WRITER_ROLES = frozenset({Role.FRONTEND, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. `cfa_siret` is None for the operator, who acts for every CFA."""

    actor: str
    role: Role
    cfa_siret: str | None
    name: str | None = None  # the token's name, for the record of who acted (application.audit)
    expires_at: datetime | None = None  # a token's: past it, a cached check is no longer trusted

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    @property
    def is_operator(self) -> bool:
        return self.cfa_siret is None

    def can_see(self, cfa_siret: str) -> bool:
        return self.is_operator or self.cfa_siret == cfa_siret

    def require_writer(self) -> None:
        if self.role not in WRITER_ROLES:
            raise Forbidden(f"the role '{self.role}' is read-only")

    def require_admin(self) -> None:
        if self.role is not Role.ADMIN:
            raise Forbidden("only an admin token of the CFA, or the operator, may do this")

    def require_operator(self) -> None:
        if not self.is_operator:
            raise Forbidden("only the operator may do this")


OPERATOR = Principal(actor="operator", role=Role.ADMIN, cfa_siret=None)
WORKER = Principal(actor="worker", role=Role.ADMIN, cfa_siret=None)  # the transmission worker, for every CFA


def new_token_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(secret: str) -> str:
    # The secret carries 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def token_id(secret_hash: str) -> UUID:
    return named_id("tokens", secret_hash)


class ApiToken(CopiedByPickle, Aggregate):
    """A CFA's token: valid until `expires_at` (None: issued before tokens expired, valid until revoked or renewed),
    renewable by the operator, revoked for good."""

    @staticmethod
    def create_id(secret_hash: str) -> UUID:
        return token_id(secret_hash)

    class Issued(Aggregate.Created):
        secret_hash: str
        cfa_siret: str
        role: str
        name: str
        actor: str
        expires_at: datetime | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["expires_at"] = None  # tokens did not expire before version 2: they stay valid until renewed

    @event(Issued)
    def __init__(
        self, secret_hash: str, cfa_siret: str, role: str, name: str, actor: str, expires_at: datetime | None
    ) -> None:
        self.secret_hash = secret_hash
        self.cfa_siret = cfa_siret
        self.role = Role(role)
        self.name = name
        self.revoked = False
        self.expires_at = expires_at

    def principal(self) -> Principal:
        return Principal(
            actor=f"token:{self.id}",
            role=self.role,
            cfa_siret=self.cfa_siret,
            name=self.name,
            expires_at=self.expires_at,
        )

    def valid_at(self, now: datetime) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)

    def revoke(self, actor: str) -> None:
        if not self.revoked:
            self._revoked(actor=actor)

    @event("Revoked")
    def _revoked(self, actor: str) -> None:
        self.revoked = True

    def renew(self, expires_at: datetime, actor: str) -> None:
        """Valid until `expires_at` (also an expired token: its secret is unchanged); a revoked token stays so."""
        if self.revoked:
            raise TokenRevoked(f"the token {self.id} is revoked: it cannot be renewed, issue another")
        if expires_at != self.expires_at:
            self._renewed(expires_at=expires_at, actor=actor)

    @event("Renewed")
    def _renewed(self, expires_at: datetime, actor: str) -> None:
        self.expires_at = expires_at
