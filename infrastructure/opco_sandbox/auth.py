"""Who calls: the software's identity headers, its OAuth2 Bearer where the OPCO wants one, the CFA's key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from domain.opcos import Opco
from infrastructure.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco_sandbox.errors import ApiError, SandboxRefusal, invalid_key
from infrastructure.opco_sandbox.records import ApiKey

IDENTITY_HEADERS = ("EDITEUR", "LOGICIEL", "VERSION")


@dataclass(frozen=True, slots=True)
class Caller:
    opco: Opco
    key: ApiKey


def known_opco(code: str) -> Opco:
    if code not in Opco.__members__:
        raise SandboxRefusal(404, [ApiError("OPCO_INCONNU", f"OPCO inconnu : {code}")])
    return Opco(code)


def identified_opco(
    request: Request, opco: Annotated[Opco, Depends(known_opco)], sandbox: Annotated[Sandbox, Depends(current_sandbox)]
) -> Opco:
    """The OPCO called, once the software is identified (400) and, where required, authenticated (401)."""
    missing = [name for name in IDENTITY_HEADERS if not request.headers.get(name)]
    if missing:
        errors = [ApiError("ENTETE_MANQUANTE", f"En-tête {name} obligatoire", name) for name in missing]
        raise SandboxRefusal(400, errors, opco)
    if opco in sandbox.config.oauth_opcos:
        _check_bearer(request.headers.get("Authorization", ""), opco, sandbox)
    return opco


def _check_bearer(authorization: str, opco: Opco, sandbox: Sandbox) -> None:
    scheme, _, value = authorization.partition(" ")
    token = sandbox.store.find_token(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
    if token is None or token.opco != opco or token.expires_at <= sandbox.now():
        error = ApiError("JETON_INVALIDE", "Jeton d'accès absent, invalide ou expiré")
        raise SandboxRefusal(401, [error], opco, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def valid_key(api_key: str | None, opco: Opco, sandbox: Sandbox) -> ApiKey | None:
    key = sandbox.store.find_key(api_key) if api_key else None
    if key is None or key.opco != opco or key.expires_on < sandbox.now().date():
        return None
    return key


def caller(
    request: Request,
    opco: Annotated[Opco, Depends(identified_opco)],
    sandbox: Annotated[Sandbox, Depends(current_sandbox)],
) -> Caller:
    key = valid_key(request.headers.get("X-API-KEY"), opco, sandbox)
    if key is None:
        raise invalid_key(opco)
    return Caller(opco, key)
