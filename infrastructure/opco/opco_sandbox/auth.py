"""Who calls: the software's identity headers, its OAuth2 token where the OPCO's dialect wants one (with a DPoP proof
for a token bound to a key), the CFA's key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from domain.opco.opco_auth import AuthFlavour
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client.dpop import ProofRefused
from infrastructure.opco.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal, invalid_key
from infrastructure.opco.opco_sandbox.records import AccessToken, ApiKey

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
    if sandbox.config.dialect(opco) is not AuthFlavour.KEY_ONLY:
        _check_token(request, opco, sandbox)
    return opco


def _check_token(request: Request, opco: Opco, sandbox: Sandbox) -> None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    token = sandbox.store.find_token(value) if scheme.lower() in {"bearer", "dpop"} and value else None
    if token is None or token.opco != opco or token.expires_at <= sandbox.now():
        raise _unauthorized(opco, "invalid_token", "Jeton d'accès absent, invalide ou expiré", token)
    if token.jkt is None and scheme.lower() == "bearer":
        return
    if token.jkt is None or scheme.lower() != "dpop":
        raise _unauthorized(opco, "invalid_token", "Jeton lié à une clé (DPoP) : schéma DPoP et preuve requis", token)
    _check_proof(request, opco, sandbox, token)


def _check_proof(request: Request, opco: Opco, sandbox: Sandbox, token: AccessToken) -> None:
    """RFC 9449 §7: a proof for this request, with `ath` for this token, signed by the key the token is bound to."""
    proof = request.headers.get("DPoP", "")
    try:
        max_age = sandbox.config.dpop_max_age_seconds
        url = str(request.url)
        claims = sandbox.dpop.check(proof, request.method, url, max_age=max_age, access_token=token.token, nonce=False)
    except ProofRefused as refused:
        raise _unauthorized(opco, "invalid_dpop_proof", f"Preuve DPoP refusée : {refused}", token) from None
    if claims["jkt"] != token.jkt:
        raise _unauthorized(opco, "invalid_dpop_proof", "Preuve DPoP signée d'une autre clé que celle du jeton", token)


def _unauthorized(opco: Opco, error: str, description: str, token: AccessToken | None) -> SandboxRefusal:
    bound = token.jkt is not None if token is not None else CATALOGUE[opco].dpop
    scheme = "DPoP" if bound else "Bearer"
    challenge = f'{scheme} error="{error}"' + (' algs="RS256 ES256"' if scheme == "DPoP" else "")
    return SandboxRefusal(401, [ApiError("JETON_INVALIDE", description)], opco, {"WWW-Authenticate": challenge})


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
