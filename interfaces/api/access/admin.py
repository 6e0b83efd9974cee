"""Operator endpoints: issue and revoke the CFAs' API tokens."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header

from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.contracts.contracts import IdempotencyKey
from interfaces.api.contracts.representation import token_body
from interfaces.api.contracts.schemas import TokenCreate, TokenIssued, TokenOut

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


@router.post("/tokens", status_code=201, response_model=TokenIssued)
def issue_token(
    body: TokenCreate, who: CurrentPrincipal, services: Services, idempotency_key: TokenIdempotencyKey = None
) -> dict[str, Any]:
    """Issue a token for one CFA and role (operator only); the token is in this response and nowhere else."""
    issued = services.dossiers.issue_token(
        who, cfa_siret=body.cfaSiret, role=body.role, name=body.name, idempotency_key=idempotency_key
    )
    return {**token_body(issued.token), "token": issued.secret}


@router.post("/tokens/{token_id}/revocation", response_model=TokenOut)
def revoke_token(
    token_id: UUID, who: CurrentPrincipal, services: Services, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Revoke a token (operator only): refused at once here, by the other processes on PostgreSQL as soon as they hear
    of it (NOTIFY), and everywhere within CONVERGENCE_TOKEN_CACHE_SECONDS whatever happens."""
    return token_body(services.dossiers.revoke_token(who, token_id, idempotency_key))
