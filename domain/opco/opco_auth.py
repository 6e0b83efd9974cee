"""How an OPCO authenticates the software that calls it: its dialect of OAuth2, as data.

Facts from ../shared/reference/opco-wire.md §4.1 and §8, api-convergence.md §2; docs/wire.md ("Authentication") gives
each one's source and certainty. The CFA's `X-API-KEY` goes on every API call whatever the dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AuthFlavour(StrEnum):
    SOR = "sor"  # the SOR identity server (AKTO, ATLAS, Mobilités): client credentials, scope "api.read api.write"
    KEYCLOAK = "keycloak"  # OPCO EP's Keycloak realm interopco-partenaires: client credentials without a scope
    OKTA_DPOP = "okta_dpop"  # AFDAS's Okta: client credentials with a DPoP proof (RFC 9449)
    KEY_ONLY = "key_only"  # the CFA's key alone, no token


KEYCLOAK_REALM = "interopco-partenaires"


@dataclass(frozen=True, slots=True)
class AuthDialect:
    flavour: AuthFlavour
    token_path: str | None  # where the token endpoint sits on its server; `{server}` is Okta's authorization server
    scope: str | None  # the scope the software asks for (None: the form has no `scope`)
    dpop: bool  # every token request and API call carries a DPoP proof, and the key must be set

    @property
    def oauth(self) -> bool:
        return self.flavour is not AuthFlavour.KEY_ONLY


DIALECTS: dict[AuthFlavour, AuthDialect] = {
    AuthFlavour.SOR: AuthDialect(AuthFlavour.SOR, "/SorApiIdentityServer/connect/token", "api.read api.write", False),
    AuthFlavour.KEYCLOAK: AuthDialect(
        AuthFlavour.KEYCLOAK, f"/realms/{KEYCLOAK_REALM}/protocol/openid-connect/token", None, False
    ),
    AuthFlavour.OKTA_DPOP: AuthDialect(AuthFlavour.OKTA_DPOP, "/oauth2/{server}/v1/token", "CFA_OPCO", True),
    AuthFlavour.KEY_ONLY: AuthDialect(AuthFlavour.KEY_ONLY, None, None, False),
}

DPOP_ALGORITHMS = ("RS256", "ES256")  # RS256 is what the observed client signs with; ES256 is RFC 9449's example
