"""Bearer-token authentication: the operator's token from settings, CFA tokens from the event store."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from application.access.access import OPERATOR, Principal, token_hash, token_id
from interfaces.api.access.rate_limits import RateLimits
from interfaces.api.audit.acting import ActingPerson, act_for
from interfaces.bootstrap import Container

_bearer = HTTPBearer(auto_error=False, description="a CFA token (see POST /admin/tokens) or the operator token")


MAX_CACHED_TOKENS = 10_000  # past this, the cache starts again empty


@dataclass(frozen=True, slots=True)
class Ticket:
    """Taken before a store read, so that the entry it makes is trusted from then, unless a revocation came since."""

    at: float
    forgets: int


@dataclass(frozen=True, slots=True)
class _Entry:
    trusted_until: float
    principal: Principal
    token_id: UUID


class TokenCache:
    """Remembers checked tokens for a while, so that a request costs no store read to authenticate.

    An entry is trusted for `ttl_seconds` from the moment the store read that made it began, and a hit never extends
    that: a revocation this process is not told of takes effect within `ttl_seconds`, however steady the traffic.
    `forget`, which the container's revocations call, drops a revoked token at once; a store read begun before a
    `forget` is not kept, since it may have seen the token before it was revoked.
    """

    def __init__(
        self,
        ttl_seconds: float,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._ttl = ttl_seconds
        self._now = clock or time.monotonic
        self._wall = wall_clock or (lambda: datetime.now(UTC))  # a token's expiry is a date: the store's clock
        self._entries: dict[str, _Entry] = {}
        self._forgets = 0
        self._lock = threading.Lock()

    def get(self, secret: str) -> Principal | None:
        entry = self._entries.get(secret)
        if entry is None or entry.trusted_until <= self._now() or entry.principal.expired(self._wall()):
            return None
        return entry.principal

    def ticket(self) -> Ticket:
        return Ticket(self._now(), self._forgets)

    def put(self, secret: str, principal: Principal, ticket: Ticket) -> None:
        entry = _Entry(ticket.at + self._ttl, principal, token_id(token_hash(secret)))
        with self._lock:
            if ticket.forgets != self._forgets:
                return
            if len(self._entries) >= MAX_CACHED_TOKENS:
                self._entries.clear()
            self._entries[secret] = entry

    def forget(self, revoked: UUID | None) -> None:
        """Stop trusting a revoked token, or (None) every token checked so far."""
        with self._lock:
            self._forgets += 1
            if revoked is None:
                self._entries.clear()
            else:
                self._entries = {s: e for s, e in self._entries.items() if e.token_id != revoked}


async def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="convergence"'})


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    person: ActingPerson = None,
) -> Principal:
    """Async, so that a request costs no thread hop to authenticate; the store is read off the loop.

    A token checked recently (in the cache) passes at once; else an address that spent its authentication failures
    is refused (429) before its token is looked up, and a failure is counted against it. Then the token's own rate
    applies (429)."""
    limits: RateLimits = request.app.state.rate_limits
    found = await _authenticated(request, credentials, limits)
    limits.charge(found.actor)
    act_for(found, person)
    return found


async def _authenticated(
    request: Request, credentials: HTTPAuthorizationCredentials | None, limits: RateLimits
) -> Principal:
    services: Container = request.app.state.container
    cache: TokenCache = request.app.state.token_cache
    secret = credentials.credentials if credentials is not None else ""
    admin = services.settings.admin_token
    if secret and admin is not None and hmac.compare_digest(secret.encode(), admin.get_secret_value().encode()):
        return OPERATOR
    found = cache.get(secret) if secret else None
    if found is not None:
        return found
    address = request.client.host if request.client else "unknown"
    limits.check_address(address)
    if credentials is None or credentials.scheme.lower() != "bearer":
        limits.failed(address)
        raise _unauthorized("send Authorization: Bearer <token>")
    ticket = cache.ticket()
    found = await run_in_threadpool(services.dossiers.authenticate, secret)
    if found is None:
        limits.failed(address)
        raise _unauthorized("unknown, expired or revoked token")
    cache.put(secret, found, ticket)  # on a miss only: a hit must not extend the time a token is trusted
    return found


CurrentPrincipal = Annotated[Principal, Depends(principal)]
Services = Annotated[Container, Depends(container)]
