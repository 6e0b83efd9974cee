"""Operator endpoints: issue and revoke the CFAs' API tokens."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from interfaces.api.auth import CurrentPrincipal, Services
from interfaces.api.representation import token_body
from interfaces.api.schemas import TokenCreate, TokenIssued, TokenOut

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/tokens", status_code=201, response_model=TokenIssued)
def issue_token(body: TokenCreate, who: CurrentPrincipal, services: Services) -> dict[str, Any]:
    """Issue a token for one CFA and role (operator only); the token is in this response and nowhere else."""
    issued = services.dossiers.issue_token(who, cfa_siret=body.cfaSiret, role=body.role, name=body.name)
    return {**token_body(issued.token), "token": issued.secret}


@router.post("/tokens/{token_id}/revocation", response_model=TokenOut)
def revoke_token(token_id: UUID, who: CurrentPrincipal, services: Services) -> dict[str, Any]:
    """Revoke a token (operator only): refused at once here, by the other processes on PostgreSQL as soon as they hear
    of it (NOTIFY), and everywhere within CONVERGENCE_TOKEN_CACHE_SECONDS whatever happens."""
    return token_body(services.dossiers.revoke_token(who, token_id))
