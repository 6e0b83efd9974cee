"""Operator endpoints: issue, list, renew and revoke the CFAs' API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query

from domain.cerfa import Siret
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.contracts.contracts import IdempotencyKey
from interfaces.api.contracts.representation import token_body
from interfaces.api.contracts.schemas import TokenCreate, TokenIssued, TokenOut, TokenRenewal
from interfaces.bootstrap import Container

router = APIRouter(prefix="/admin", tags=["admin"])

TokenIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="a key of your choice that makes this request safe to send again: a token is issued once per key."
        " Since the token is shown once and kept nowhere, the same key again is 409 `token-already-issued`, naming"
        " the token (revoke it if its answer was lost, and issue another under a new key); the same key with"
        " another body is 422 `idempotency-key-reused`",
    ),
]


def lifetime(days: int | None, services: Container) -> timedelta:
    return timedelta(days=days if days is not None else services.settings.token_lifetime_days)


@router.post("/tokens", status_code=201, response_model=TokenIssued)
def issue_token(
    body: TokenCreate, who: CurrentPrincipal, services: Services, idempotency_key: TokenIdempotencyKey = None
) -> dict[str, Any]:
    """Issue a token for one CFA and role (operator only), valid `expiresInDays` (default
    CONVERGENCE_TOKEN_LIFETIME_DAYS, 90); the token is in this response and nowhere else."""
    issued = services.dossiers.issue_token(
        who,
        cfa_siret=body.cfaSiret,
        role=body.role,
        name=body.name,
        lifetime=lifetime(body.expiresInDays, services),
        idempotency_key=idempotency_key,
    )
    return {**token_body(issued.token, services.dossiers.clock.now()), "token": issued.secret}


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(
    who: CurrentPrincipal,
    services: Services,
    cfa_siret: Annotated[Siret | None, Query(alias="cfaSiret", description="only this CFA's tokens")] = None,
) -> list[dict[str, Any]]:
    """Every token issued, oldest first, revoked and expired ones included (operator only); never a secret."""
    now = services.dossiers.clock.now()
    return [token_body(token, now) for token in services.dossiers.tokens(who, cfa_siret)]


@router.post("/tokens/{token_id}/renewal", response_model=TokenOut)
def renew_token(
    token_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    body: TokenRenewal | None = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Make a token valid `expiresInDays` from now (default CONVERGENCE_TOKEN_LIFETIME_DAYS), an expired one too,
    with the same secret (operator only); a revoked token is 409 `token-revoked`."""
    days = body.expiresInDays if body else None
    renewed = services.dossiers.renew_token(who, token_id, lifetime(days, services), idempotency_key)
    return token_body(renewed, services.dossiers.clock.now())


@router.post("/tokens/{token_id}/revocation", response_model=TokenOut)
def revoke_token(
    token_id: UUID, who: CurrentPrincipal, services: Services, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Revoke a token (operator only): refused at once here, by the other processes on PostgreSQL as soon as they hear
    of it (NOTIFY), and everywhere within CONVERGENCE_TOKEN_CACHE_SECONDS whatever happens."""
    revoked = services.dossiers.revoke_token(who, token_id, idempotency_key)
    return token_body(revoked, services.dossiers.clock.now())
