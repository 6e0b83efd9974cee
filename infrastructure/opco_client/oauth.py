"""OAuth2 client-credentials tokens, cached per (token_url, client_id, scope) and refreshed one at a time."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from application.opco_gateway import KeyRejected, OpcoEndpoint, OpcoError
from infrastructure.opco_client.errors import Redact, json_or_none, opco_messages, response_error

DEFAULT_LIFETIME = 300.0  # seconds, when the token endpoint does not say (`expires_in` absent or unreadable)
MAX_MARGIN = 60.0  # a token is dropped this long before it expires (at most 10% of its lifetime)
_CREDENTIALS_REFUSED = frozenset({400, 401, 403})


@dataclass(frozen=True, slots=True)
class Grant:
    access_token: str = field(repr=False)
    expires_in: float | None


@dataclass(frozen=True, slots=True)
class TokenKey:
    token_url: str
    client_id: str
    scope: str | None

    @classmethod
    def of(cls, endpoint: OpcoEndpoint) -> TokenKey:
        if not (endpoint.client_id and endpoint.client_secret and endpoint.token_url):
            raise OpcoError(f"{endpoint.opco}: OAuth needs client_id, client_secret and token_url; one is missing")
        return cls(endpoint.token_url, endpoint.client_id, endpoint.scope)


@dataclass(frozen=True, slots=True)
class _Cached:
    access_token: str = field(repr=False)
    valid_until: float


class TokenCache:
    """Thread-safe: readers never wait on a valid token; for one key, a single thread fetches a new token."""

    def __init__(self, fetch: Callable[[OpcoEndpoint], Grant], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._guard = threading.Lock()
        self._tokens: dict[TokenKey, _Cached] = {}
        self._refreshing: dict[TokenKey, threading.Lock] = {}

    def token(self, endpoint: OpcoEndpoint) -> str:
        key = TokenKey.of(endpoint)
        cached = self._valid(key)
        if cached is not None:
            return cached
        with self._refresh_lock(key):
            cached = self._valid(key)  # another thread may have refreshed it while this one waited
            if cached is not None:
                return cached
            grant = self._fetch(endpoint)
            with self._guard:
                self._tokens[key] = _Cached(grant.access_token, self._clock() + _usable_lifetime(grant.expires_in))
            return grant.access_token

    def invalidate(self, endpoint: OpcoEndpoint, stale: str) -> None:
        """Forget `stale` (refused by the API); a token another thread has fetched since is kept."""
        key = TokenKey.of(endpoint)
        with self._guard:
            cached = self._tokens.get(key)
            if cached is not None and cached.access_token == stale:
                del self._tokens[key]

    def _valid(self, key: TokenKey) -> str | None:
        with self._guard:
            cached = self._tokens.get(key)
        if cached is None or self._clock() >= cached.valid_until:
            return None
        return cached.access_token

    def _refresh_lock(self, key: TokenKey) -> threading.Lock:
        with self._guard:
            return self._refreshing.setdefault(key, threading.Lock())


def _usable_lifetime(expires_in: float | None) -> float:
    lifetime = expires_in if expires_in is not None and expires_in > 0 else DEFAULT_LIFETIME
    return lifetime - min(MAX_MARGIN, lifetime / 10)


def token_form(endpoint: OpcoEndpoint) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": endpoint.client_id or "",
        "client_secret": endpoint.client_secret or "",
    }
    if endpoint.scope:
        form["scope"] = endpoint.scope
    return form


def grant_from(response: httpx.Response, *, where: str, redact: Redact) -> Grant:
    """The token endpoint's answer as a Grant, or the error it means."""
    status = response.status_code
    if status in _CREDENTIALS_REFUSED:
        said = redact("; ".join(opco_messages(response)))
        hint = "the software's OAuth client credentials (client_id/client_secret/scope) are wrong, not the CFA's key"
        raise KeyRejected(f"{where}: the token endpoint refused the credentials ({status}): {hint}: {said}")
    if not response.is_success:
        raise response_error(response, where=where, side_effects=False, redact=redact)
    body = json_or_none(response)
    access_token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(access_token, str) or not access_token:
        raise OpcoError(f"{where}: the token endpoint answered {status} without an access_token")
    return Grant(access_token, _seconds(body.get("expires_in")))


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) else None
