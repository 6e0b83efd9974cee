"""The OPCOs' OAuth2 token endpoints, each where and as its dialect has it (domain/opco/opco_auth.py):

- SOR identity server (AKTO, ATLAS, Mobilités): POST /{CODE}/SorApiIdentityServer/connect/token, client
  credentials with the scope `api.read api.write`;
- Keycloak (OPCO EP): POST /{CODE}/realms/interopco-partenaires/protocol/openid-connect/token, without a scope;
- Okta with DPoP (AFDAS): POST /{CODE}/oauth2/{server}/v1/token, a DPoP proof with the nonce the server hands out;
  the token is bound to the proof's key (`token_type: DPoP`), and the API then wants a proof with it.

A token endpoint of another dialect than the OPCO's is not there (404). Errors are OAuth2's (RFC 6749 §5.2).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from domain.opco.opco_auth import DIALECTS, KEYCLOAK_REALM, AuthFlavour
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client.dpop import ProofRefused
from infrastructure.opco.opco_sandbox.auth import known_opco
from infrastructure.opco.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco.opco_sandbox.dpop_guard import NonceNeeded
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco.opco_sandbox.records import AccessToken
from infrastructure.opco.opco_sandbox.wire import SandboxJSON

router = APIRouter()
OpcoCalled = Annotated[Opco, Depends(known_opco)]
CurrentSandbox = Annotated[Sandbox, Depends(current_sandbox)]


def oauth_error(status: int, error: str, description: str | None = None, **headers: str) -> SandboxJSON:
    body = {"error": error} if description is None else {"error": error, "error_description": description}
    return SandboxJSON(body, status_code=status, headers={"Cache-Control": "no-store", **headers})


def client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """From the form (client_secret_post) or from HTTP Basic (client_secret_basic)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def known_client(sandbox: Sandbox, client_id: str, secret: str) -> bool:
    expected = sandbox.config.oauth_client_secret(client_id)
    return expected is not None and hmac.compare_digest(expected.encode(), secret.encode())


@router.post("/{code}/SorApiIdentityServer/connect/token")
async def sor_token(request: Request, opco: OpcoCalled, sandbox: CurrentSandbox) -> SandboxJSON:
    return await _issue(request, opco, sandbox, AuthFlavour.SOR)


@router.post("/{code}/realms/{realm}/protocol/openid-connect/token")
async def keycloak_token(request: Request, opco: OpcoCalled, realm: str, sandbox: CurrentSandbox) -> SandboxJSON:
    if realm != KEYCLOAK_REALM:
        return oauth_error(404, "realm_not_found", f"Realm does not exist: {realm}")
    return await _issue(request, opco, sandbox, AuthFlavour.KEYCLOAK)


@router.post("/{code}/oauth2/{server}/v1/token")
async def okta_token(request: Request, opco: OpcoCalled, server: str, sandbox: CurrentSandbox) -> SandboxJSON:
    return await _issue(request, opco, sandbox, AuthFlavour.OKTA_DPOP)


async def _issue(request: Request, opco: Opco, sandbox: Sandbox, flavour: AuthFlavour) -> SandboxJSON:
    if sandbox.config.dialect(opco) is not flavour:
        error = ApiError("OAUTH_AILLEURS", f"{opco.value} n'a pas ce serveur d'autorisation ({flavour.value})")
        raise SandboxRefusal(404, [error], opco)
    form = {name: values[0] for name, values in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    if form.get("grant_type") != "client_credentials":
        return oauth_error(400, "unsupported_grant_type")
    if not known_client(sandbox, *client_credentials(request, form)):
        return oauth_error(401, "invalid_client", "Client authentication failed")
    refused_scope = _scope_refusal(flavour, form.get("scope"))
    if refused_scope is not None:
        return oauth_error(400, "invalid_scope", refused_scope)
    jkt = None
    if DIALECTS[flavour].dpop:
        proof = request.headers.get("DPoP")
        if not proof:
            return oauth_error(400, "invalid_dpop_proof", "DPoP proof required")
        max_age = sandbox.config.dpop_max_age_seconds
        try:
            jkt = sandbox.dpop.check(proof, "POST", str(request.url), max_age=max_age, nonce=True)["jkt"]
        except NonceNeeded as needed:
            description = "Authorization server requires nonce in DPoP proof."
            return oauth_error(400, "use_dpop_nonce", description, **{"DPoP-Nonce": needed.nonce})
        except ProofRefused as refused:
            return oauth_error(400, "invalid_dpop_proof", str(refused))
    ttl = sandbox.config.token_ttl_seconds
    token = AccessToken(secrets.token_urlsafe(32), opco, sandbox.now() + timedelta(seconds=ttl), jkt)
    await run_in_threadpool(sandbox.store.add_token, token)
    body = {"access_token": token.token, "token_type": "DPoP" if jkt else "Bearer", "expires_in": ttl}
    if form.get("scope"):
        body["scope"] = form["scope"]
    return SandboxJSON(body, headers={"Cache-Control": "no-store"})


def _scope_refusal(flavour: AuthFlavour, scope: str | None) -> str | None:
    """Why the scope asked for is refused, or None. The SOR server wants its two scopes; OPCO EP's client has no
    scope to ask for; Okta grants its scope, asked for or by default."""
    expected = DIALECTS[flavour].scope
    asked = set((scope or "").split())
    if flavour is AuthFlavour.SOR and asked != set((expected or "").split()):
        return f"the scope is '{expected}'"
    if flavour is AuthFlavour.KEYCLOAK and asked:
        return "this client asks for no scope"
    if flavour is AuthFlavour.OKTA_DPOP and asked and asked != {expected}:
        return f"the only scope is '{expected}'"
    return None
