"""OAuth2 client-credentials tokens, cached per (token_url, client_id, scope, DPoP key) and refreshed one at a time;
the DPoP nonces the servers hand out (RFC 9449 §8), kept per server."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from application.opco.opco_gateway import KeyRejected, OpcoEndpoint, OpcoError, TransientOpcoError
from infrastructure.opco.opco_client.errors import Redact, json_or_none, opco_messages, response_error

DEFAULT_LIFETIME = 300.0  # seconds, when the token endpoint does not say (`expires_in` absent or unreadable)
MAX_MARGIN = 60.0  # a token is dropped this long before it expires (at most 10% of its lifetime)
_CREDENTIALS_REFUSED = frozenset({400, 401, 403})
_TRANSIENT_OAUTH_ERRORS = frozenset({"use_dpop_nonce"})  # asked again with the nonce: never a refusal by itself


@dataclass(frozen=True, slots=True)
class Grant:
    access_token: str = field(repr=False)
    expires_in: float | None
    token_type: str = "Bearer"

    @property
    def scheme(self) -> str:
        """How the token goes to the API: `DPoP` for a token bound to a key (with a proof), else `Bearer`."""
        return "DPoP" if self.token_type.lower() == "dpop" else "Bearer"


@dataclass(frozen=True, slots=True)
class TokenKey:
    token_url: str
    client_id: str
    scope: str | None
    jkt: str | None  # the thumbprint of the DPoP key the token is bound to

    @classmethod
    def of(cls, endpoint: OpcoEndpoint, jkt: str | None = None) -> TokenKey:
        if not (endpoint.client_id and endpoint.client_secret and endpoint.token_url):
            raise OpcoError(f"{endpoint.opco}: OAuth needs client_id, client_secret and token_url; one is missing")
        return cls(endpoint.token_url, endpoint.client_id, endpoint.scope, jkt)


@dataclass(frozen=True, slots=True)
class _Cached:
    grant: Grant
    valid_until: float


class TokenCache:
    """Thread-safe: readers never wait on a valid token; for one key, a single thread fetches a new token."""

    def __init__(self, fetch: Callable[[OpcoEndpoint], Grant], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._guard = threading.Lock()
        self._tokens: dict[TokenKey, _Cached] = {}
        self._refreshing: dict[TokenKey, threading.Lock] = {}

    def token(self, endpoint: OpcoEndpoint, jkt: str | None = None) -> Grant:
        key = TokenKey.of(endpoint, jkt)
        cached = self._valid(key)
        if cached is not None:
            return cached
        with self._refresh_lock(key):
            cached = self._valid(key)  # another thread may have refreshed it while this one waited
            if cached is not None:
                return cached
            grant = self._fetch(endpoint)
            with self._guard:
                self._tokens[key] = _Cached(grant, self._clock() + _usable_lifetime(grant.expires_in))
            return grant

    def invalidate(self, endpoint: OpcoEndpoint, stale: str, jkt: str | None = None) -> None:
        """Forget `stale` (refused by the API); a token another thread has fetched since is kept."""
        key = TokenKey.of(endpoint, jkt)
        with self._guard:
            cached = self._tokens.get(key)
            if cached is not None and cached.grant.access_token == stale:
                del self._tokens[key]

    def _valid(self, key: TokenKey) -> Grant | None:
        with self._guard:
            cached = self._tokens.get(key)
        if cached is None or self._clock() >= cached.valid_until:
            return None
        return cached.grant

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
    if _oauth_error(response) in _TRANSIENT_OAUTH_ERRORS:
        raise TransientOpcoError(f"{where}: the token endpoint asked again for a new DPoP nonce ({status})")
    if status in _CREDENTIALS_REFUSED:
        said = redact("; ".join(opco_messages(response)))
        hint = "the software's OAuth client credentials (client_id/client_secret/scope, DPoP key) are refused"
        raise KeyRejected(f"{where}: the token endpoint refused the credentials ({status}): {hint}: {said}")
    if not response.is_success:
        raise response_error(response, where=where, side_effects=False, redact=redact)
    body = json_or_none(response)
    access_token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(access_token, str) or not access_token:
        raise OpcoError(f"{where}: the token endpoint answered {status} without an access_token")
    token_type = body.get("token_type")
    return Grant(
        access_token, _seconds(body.get("expires_in")), token_type if isinstance(token_type, str) else "Bearer"
    )


def dpop_nonce_asked(response: httpx.Response) -> str | None:
    """The nonce a server asks to be put in the DPoP proof (RFC 9449 §8: `use_dpop_nonce`, from the token endpoint
    as an OAuth error, from an API as a `WWW-Authenticate: DPoP` challenge), or None."""
    nonce: str | None = response.headers.get("DPoP-Nonce")
    if not nonce:
        return None
    if response.status_code == 401 and "use_dpop_nonce" in response.headers.get("WWW-Authenticate", ""):
        return nonce
    body = json_or_none(response) if response.status_code == 400 else None
    return nonce if isinstance(body, dict) and body.get("error") == "use_dpop_nonce" else None


class DpopNonces:
    """The last nonce each server (scheme://host:port) gave, to put in the next proof sent there."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._nonces: dict[str, str] = {}

    def get(self, url: str) -> str | None:
        with self._guard:
            return self._nonces.get(_origin(url))

    def remember(self, url: str, response: httpx.Response) -> None:
        nonce = response.headers.get("DPoP-Nonce")
        if nonce:
            with self._guard:
                self._nonces[_origin(url)] = nonce


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _oauth_error(response: httpx.Response) -> str | None:
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) else None
