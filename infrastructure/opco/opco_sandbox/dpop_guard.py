"""The sandbox's side of DPoP (RFC 9449): the nonces it hands out, the proofs it has already seen."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from infrastructure.opco.opco_client.dpop import ProofRefused, verify_proof


class NonceNeeded(Exception):
    """The proof carries no nonce, or a stale one: answer `use_dpop_nonce` with `nonce`."""

    def __init__(self, nonce: str) -> None:
        super().__init__("use_dpop_nonce")
        self.nonce = nonce


class DpopGuard:
    """Nonces are an HMAC of the current time window, under a key of this process: no state to share, and a nonce
    stays good for one to two windows. A proof's `jti` is accepted once while its `iat` is fresh."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}

    def nonce(self, max_age: float) -> str:
        return self._nonce_of(int(self._clock() // max_age))

    def check(
        self, proof: str, method: str, url: str, *, max_age: float, access_token: str | None = None, nonce: bool
    ) -> dict[str, Any]:
        """The claims of a good proof (with `jkt`); ProofRefused, or NonceNeeded when `nonce` is required."""
        now = self._clock()
        claims = verify_proof(proof, method, url, now=now, max_age=max_age, access_token=access_token)
        if nonce and claims.get("nonce") not in self._fresh_nonces(now, max_age):
            raise NonceNeeded(self.nonce(max_age))
        if not self._first_use(str(claims["jti"]), now, max_age):
            raise ProofRefused("the proof's jti was already used: a proof is good for one request")
        return claims

    def _fresh_nonces(self, now: float, max_age: float) -> set[str]:
        window = int(now // max_age)
        return {self._nonce_of(window), self._nonce_of(window - 1)}

    def _nonce_of(self, window: int) -> str:
        digest = hmac.new(self._key, str(window).encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()

    def _first_use(self, jti: str, now: float, max_age: float) -> bool:
        with self._lock:
            for old in [seen for seen, at in self._seen.items() if at < now - 2 * max_age]:
                del self._seen[old]
            if jti in self._seen:
                return False
            self._seen[jti] = now
            return True
