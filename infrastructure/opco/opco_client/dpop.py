"""DPoP (RFC 9449): the keys that sign the proofs, and the proofs themselves, built with joserfc.

A proof is a JWT whose header carries `typ: dpop+jwt`, the algorithm and the public JWK, and whose claims bind it to
one request: `jti` (unique), `htm` (the method), `htu` (the URL without query and fragment), `iat`; `ath` (the
base64url SHA-256 of the access token) when it goes with a token to a resource server; `nonce` when the server gave
one (`DPoP-Nonce`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, RSAKey

from application.ports import DpopKeyMaterial
from domain.opco.opco_auth import DPOP_ALGORITHMS

MIN_RSA_BITS = 2048
_CURVE_ALGORITHMS = {"P-256": "ES256"}


def htu(url: str) -> str:
    """The `htu` of a request to `url`: scheme, host and path, without query and fragment (RFC 9449 §4.2)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", "", ""))


def ath(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def thumbprint(public_jwk: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of a public JWK."""
    return str(JWKRegistry.import_key(public_jwk).thumbprint())


class DpopSigner:
    """Signs the proofs of one key. Thread-safe (it holds nothing that changes)."""

    def __init__(self, private_jwk: str, *, clock: Callable[[], float] = time.time) -> None:
        self._key, self.alg = _private_key(json.loads(private_jwk))
        self.public_jwk = self._key.as_dict(private=False)
        self.thumbprint = str(self._key.thumbprint())
        self._clock = clock

    def proof(self, method: str, url: str, *, access_token: str | None = None, nonce: str | None = None) -> str:
        header = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public_jwk}
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(24),
            "htm": method.upper(),
            "htu": htu(url),
            "iat": int(self._clock()),
        }
        if access_token is not None:
            claims["ath"] = ath(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(header, claims, self._key, algorithms=[self.alg], registry=_registry())


class JoseDpopKeys:
    """Implements `application.ports.DpopKeys`: RSA (2048 bits, RS256) or EC P-256 (ES256) keys."""

    def generate(self, alg: str) -> DpopKeyMaterial:
        key: RSAKey | ECKey = RSAKey.generate_key(MIN_RSA_BITS) if alg == "RS256" else ECKey.generate_key("P-256")
        return _material(key)

    def load(self, private_key: str | dict[str, Any]) -> DpopKeyMaterial:
        if isinstance(private_key, dict):
            return _material(_private_key(private_key)[0])
        text = private_key.strip()
        if text.startswith("{"):
            try:
                jwk = json.loads(text)
            except ValueError:
                raise ValueError("privateKey looks like a JWK but is not valid JSON") from None
            return _material(_private_key(jwk)[0])
        if not text.startswith("-----BEGIN"):
            raise ValueError("privateKey is a PEM private key (-----BEGIN PRIVATE KEY-----) or a private JWK")
        for key_type in ("RSA", "EC"):
            try:
                key = JWKRegistry.import_key(text.encode(), key_type)
            except (JoseError, ValueError, TypeError):
                continue
            if not key.is_private:
                raise ValueError("privateKey is a public key: the private key is needed to sign the proofs")
            return _material(_private_key(key.as_dict(private=True))[0])
        raise ValueError("privateKey is not a readable PEM RSA or EC private key")


def _material(key: RSAKey | ECKey) -> DpopKeyMaterial:
    _, alg = _private_key(key.as_dict(private=True))
    public = key.as_dict(private=False)
    return DpopKeyMaterial(
        private_jwk=json.dumps(key.as_dict(private=True), sort_keys=True),
        public_jwk=dict(public),
        thumbprint=str(key.thumbprint()),
        alg=alg,
    )


def _private_key(jwk: dict[str, Any]) -> tuple[RSAKey | ECKey, str]:
    """The private key of a JWK and the algorithm it signs DPoP proofs with; ValueError saying what is wrong."""
    if not isinstance(jwk, dict) or jwk.get("kty") not in {"RSA", "EC"}:
        raise ValueError("the DPoP key is an RSA or an EC (P-256) private key")
    if "d" not in jwk:
        raise ValueError("the DPoP key given is a public key: the private key is needed to sign the proofs")
    if jwk["kty"] == "RSA" and (bits := _modulus_bits(jwk.get("n"))) < MIN_RSA_BITS:
        raise ValueError(f"an RSA DPoP key has at least {MIN_RSA_BITS} bits (this one: {bits})")
    try:
        key = JWKRegistry.import_key(jwk)
    except (JoseError, ValueError, TypeError):
        raise ValueError("the DPoP key is not a readable JWK") from None  # the library's words might quote the key
    if isinstance(key, RSAKey):
        return key, "RS256"
    if isinstance(key, ECKey) and jwk.get("crv") in _CURVE_ALGORITHMS:
        return key, _CURVE_ALGORITHMS[jwk["crv"]]
    raise ValueError("an EC DPoP key is on the P-256 curve (ES256)")


class ProofRefused(ValueError):
    """A DPoP proof that does not prove what it must; the message says which rule it breaks."""


def verify_proof(
    proof: str,
    method: str,
    url: str,
    *,
    now: float,
    max_age: float,
    access_token: str | None = None,
) -> dict[str, Any]:
    """The claims of a valid proof for `method` on `url` (and `access_token`), with `jkt` added: the thumbprint of
    the key that signed it. Raises ProofRefused. The caller checks `jti` for replays and `nonce`."""
    try:
        protected = jws.extract_compact(proof.encode("ascii"), registry=_registry()).protected
        if protected.get("typ") != "dpop+jwt":
            raise ProofRefused("the proof's typ is not dpop+jwt")
        jwk = protected.get("jwk")
        if not isinstance(jwk, dict) or "d" in jwk or protected.get("alg") not in DPOP_ALGORITHMS:
            raise ProofRefused("the proof's header has no public jwk, or an algorithm other than RS256 and ES256")
        key = JWKRegistry.import_key(jwk)
        claims: dict[str, Any] = dict(jwt.decode(proof, key, registry=_registry()).claims)
    except (JoseError, ValueError, TypeError, UnicodeEncodeError) as error:
        if isinstance(error, ProofRefused):
            raise
        raise ProofRefused(f"the proof is not a valid signed JWT ({error})") from None
    _check_claims(claims, method, url, now, max_age, access_token)
    claims["jkt"] = str(key.thumbprint())
    return claims


def _check_claims(
    claims: dict[str, Any], method: str, url: str, now: float, max_age: float, access_token: str | None
) -> None:
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise ProofRefused("the proof has no jti")
    if claims.get("htm") != method.upper():
        raise ProofRefused(f"the proof's htm is not {method.upper()}")
    if not isinstance(claims.get("htu"), str) or htu(claims["htu"]) != htu(url):
        raise ProofRefused(f"the proof's htu is not {htu(url)}")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool) or abs(now - iat) > max_age:
        raise ProofRefused("the proof's iat is missing or too far from now")
    if access_token is not None and claims.get("ath") != ath(access_token):
        raise ProofRefused("the proof's ath is not the hash of the access token it goes with")


def _modulus_bits(n: Any) -> int:
    if not isinstance(n, str):
        return 0
    try:
        return len(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))) * 8
    except ValueError:
        return 0


def _registry() -> jws.JWSRegistry:
    registry = jws.JWSRegistry(algorithms=list(DPOP_ALGORITHMS))
    registry.max_header_length = 2048  # the header carries the public key: an RSA jwk is longer than the default
    return registry
