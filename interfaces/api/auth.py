"""Bearer-token authentication: the operator's token from settings, CFA tokens from the event store."""

from __future__ import annotations

import hmac
import threading
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from application.access import OPERATOR, Principal
from interfaces.bootstrap import Container

_bearer = HTTPBearer(auto_error=False, description="a CFA token (see POST /admin/tokens) or the operator token")


class TokenCache:
    """Remembers checked tokens for a short while, so that a request costs no store read to authenticate."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, secret: str) -> Principal | None:
        entry = self._entries.get(secret)
        if entry and entry[0] > time.monotonic():
            return entry[1]
        return None

    def put(self, secret: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[secret] = (time.monotonic() + self._ttl, principal)


async def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="convergence"'})


async def principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """Async, so that a request costs no thread hop to authenticate; the store is read off the loop."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("send Authorization: Bearer <token>")
    secret = credentials.credentials
    services: Container = request.app.state.container
    admin = services.settings.admin_token
    if admin is not None and hmac.compare_digest(secret.encode(), admin.get_secret_value().encode()):
        return OPERATOR
    cache: TokenCache = request.app.state.token_cache
    found = cache.get(secret) or await run_in_threadpool(services.dossiers.authenticate, secret)
    if found is None:
        raise _unauthorized("unknown or revoked token")
    cache.put(secret, found)
    return found


CurrentPrincipal = Annotated[Principal, Depends(principal)]
Services = Annotated[Container, Depends(container)]
