"""POST /opcos/{CODE}/oauth/token: OAuth2 client credentials, for the OPCOs that put a Bearer on top of the key."""

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

from domain.opcos import Opco
from infrastructure.opco_sandbox.auth import known_opco
from infrastructure.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco_sandbox.records import AccessToken
from infrastructure.opco_sandbox.wire import SandboxJSON

router = APIRouter()


def oauth_error(status: int, error: str) -> SandboxJSON:
    return SandboxJSON({"error": error}, status_code=status, headers={"Cache-Control": "no-store"})


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
    expected = sandbox.config.oauth_clients.get(client_id)
    return expected is not None and hmac.compare_digest(expected.encode(), secret.encode())


@router.post("/{code}/oauth/token")
async def issue_token(
    request: Request, opco: Annotated[Opco, Depends(known_opco)], sandbox: Annotated[Sandbox, Depends(current_sandbox)]
) -> SandboxJSON:
    if opco not in sandbox.config.oauth_opcos:
        raise SandboxRefusal(404, [ApiError("OAUTH_NON_REQUIS", f"{opco.value} n'utilise pas OAuth2")], opco)
    form = {name: values[0] for name, values in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    if form.get("grant_type") != "client_credentials":
        return oauth_error(400, "unsupported_grant_type")
    if not known_client(sandbox, *client_credentials(request, form)):
        return oauth_error(401, "invalid_client")
    ttl = sandbox.config.token_ttl_seconds
    token = AccessToken(secrets.token_urlsafe(32), opco, sandbox.now() + timedelta(seconds=ttl))
    await run_in_threadpool(sandbox.store.add_token, token)
    body = {"access_token": token.token, "token_type": "Bearer", "expires_in": ttl}
    if form.get("scope"):
        body["scope"] = form["scope"]
    return SandboxJSON(body, headers={"Cache-Control": "no-store"})
