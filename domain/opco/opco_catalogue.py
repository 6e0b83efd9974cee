"""What each OPCO offers over the API Convergence, and how it speaks it: protocol, capabilities, addresses per
environment, authentication dialect, invoice path, error shape.

Facts from ../shared/reference/opco-wire.md (§4.1 hosts, §7, §8) and api-convergence.md (§1, §2, §5); docs/wire.md
gives each one's source and certainty. An address that was not observed is None: that OPCO cannot be called until
the operator sets it, and says why (`OpcoProfile.unreachable`), rather than pointing at a guess or a test host.
Every value can be overridden in the settings (infrastructure/opco/opco_directory.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from domain.opco.opco_auth import DIALECTS, AuthDialect, AuthFlavour
from domain.opco.opcos import Opco


class Environment(StrEnum):
    PRODUCTION = "production"
    TEST = "test"  # the OPCOs' recette / lab hosts, for a software's own tests


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """Where an OPCO puts its words in an error answer. The `errors` list of `{code, description}` is read first
    everywhere; `summary` names the top-level keys read besides it (Atlas `description`, OPCO EP `comment`)."""

    summary: tuple[str, ...] = ()
    not_found: frozenset[int] = frozenset({404})  # a lookup's "no such dossier/invoice" (OPCO EP: also 400)


SOR_ERRORS = ErrorShape(summary=("description", "Description"))  # AKTO also writes `Description` (§4.3)
EP_ERRORS = ErrorShape(summary=("comment",), not_found=frozenset({400, 404}))
SOR_INVOICES = "/v1/Factures"  # capital F on the SOR hosts (§4.1, §8)
INVOICES = "/v1/factures"


@dataclass(frozen=True, slots=True)
class Address:
    base_url: str | None  # the API's root: the client appends /v1/..., /v2/...
    token_url: str | None = None  # the OAuth2 token endpoint, where the OPCO's dialect has one


@dataclass(frozen=True, slots=True)
class OpcoProfile:
    opco: Opco
    base_url: str | None
    protocol: int  # 1 or 2: path prefix of dossiers and their states
    contracts: bool  # accepts contracts (POST /dossiers)
    invoices: bool  # accepts invoices (POST /v1/factures)
    invoice_states: bool  # offers GET /v2/factures/etats
    ruptures: bool  # accepts POST /v2/dossiers/rupture/employeur
    auth: AuthFlavour = AuthFlavour.KEY_ONLY
    oauth_scope: str | None = None  # the scope asked for at the token endpoint (None: no `scope` in the form)
    token_url: str | None = None  # the OAuth2 token endpoint, where the dialect has one
    invoice_path: str = INVOICES
    errors: ErrorShape = field(default_factory=ErrorShape)
    environment: Environment = Environment.PRODUCTION
    observed_elsewhere: tuple[Environment, ...] = ()  # the other environments where an address was observed
    conventions: bool = False  # accepts POST /v1/conventions (multipart `convention` JSON + `fichier`)
    documents: bool = False  # accepts POST /v1/documents (multipart `infosFichier` JSON + `fichier`)
    certificats_v2: bool = False  # accepts POST /v2/certificats (the certificat de réalisation, AFDAS)

    @property
    def dialect(self) -> AuthDialect:
        return DIALECTS[self.auth]

    @property
    def oauth(self) -> bool:
        """A Bearer (or DPoP) token goes on top of the CFA's key: the software's OAuth client must be set."""
        return self.dialect.oauth

    @property
    def dpop(self) -> bool:
        return self.dialect.dpop

    def unreachable(self) -> str | None:
        """Why this OPCO cannot be called here, or None when its addresses are known."""
        seen = f" (only its {', '.join(self.observed_elsewhere)} host was observed)" if self.observed_elsewhere else ""
        if self.base_url is None:
            return f"no {self.environment} address of {self.opco}'s API is known{seen}: the operator must set it"
        if self.oauth and self.token_url is None:
            return (
                f"{self.opco}'s {self.environment} OAuth2 token endpoint ({self.auth}) is not known: the operator"
                " must set its token_url"
            )
        return None


def _sor(host: str) -> Address:
    return Address(f"{host}/SorApiEchangeCFA", f"{host}{DIALECTS[AuthFlavour.SOR].token_path}")


# Observed addresses (opco-wire.md §4.1, api-convergence.md §1). Absent: not observed. AFDAS's Okta authorization
# server and OPCO EP's Keycloak host are unknown, so their token endpoints are too.
ADDRESSES: Mapping[Opco, Mapping[Environment, Address]] = {
    Opco.AKTO: {Environment.PRODUCTION: _sor("https://cfa-ws.akto.fr")},
    Opco.ATLAS: {Environment.PRODUCTION: _sor("https://cfa-ws.opco-atlas.org")},
    Opco.AFDAS: {
        Environment.PRODUCTION: Address("https://api-cfa.afdas.com"),
        Environment.TEST: Address("https://api-cfa-recette.afdas.com"),
    },
    Opco.OPCOEP: {Environment.TEST: Address("https://kong-master.lab.opcoep.fr")},
    Opco.MOBILITES: {Environment.TEST: _sor("https://moov-test-echangecfa-api.opcomobilites.fr")},
}


def _profile(opco: Opco, environment: Environment, *, v2: bool = False, **overrides: object) -> OpcoProfile:
    addresses = ADDRESSES.get(opco, {})
    address = addresses.get(environment, Address(None))
    auth = overrides.get("auth", AuthFlavour.KEY_ONLY)
    assert isinstance(auth, AuthFlavour)
    values: dict[str, object] = {
        "base_url": address.base_url,
        "token_url": address.token_url,
        "protocol": 2 if v2 else 1,
        "contracts": True,
        "invoices": True,
        "invoice_states": v2,
        "ruptures": v2,
        "oauth_scope": DIALECTS[auth].scope,
        "environment": environment,
        "observed_elsewhere": tuple(e for e in addresses if e is not environment),
    }
    values.update(overrides)
    return OpcoProfile(opco=opco, **values)  # type: ignore[arg-type]


def catalogue(environment: Environment = Environment.PRODUCTION) -> dict[Opco, OpcoProfile]:
    """Each OPCO as observed, at the addresses of `environment`. The six OPCOs whose dialect was not observed are
    taken as key only [I] until their specification says otherwise."""
    sor = {"auth": AuthFlavour.SOR, "invoice_path": SOR_INVOICES, "errors": SOR_ERRORS}
    profiles = (
        _profile(Opco.AFDAS, environment, auth=AuthFlavour.OKTA_DPOP),
        _profile(Opco.AKTO, environment, v2=True, **sor),
        _profile(Opco.ATLAS, environment, v2=True, **sor),
        _profile(Opco.CONSTRUCTYS, environment),
        _profile(Opco.OCAPIAT, environment, v2=True),
        _profile(Opco.OPCO2I, environment),
        _profile(Opco.OPCOEP, environment, auth=AuthFlavour.KEYCLOAK, errors=EP_ERRORS),
        _profile(Opco.MOBILITES, environment, v2=True, **sor),
        _profile(Opco.SANTE, environment, contracts=False),
        _profile(Opco.COHESION_SOCIALE, environment, invoices=False),
        _profile(Opco.OPCOMMERCE, environment, v2=True),
    )
    return {profile.opco: with_document_routes(profile) for profile in profiles}


# The document routes (opco-wire.md §4, api-convergence.md §5; docs/wire.md "Documents"): conventions at ten OPCOs, not
# OPCO Santé [C3 GSMS-NOTE]; /v1/documents hard-coded by CerFacil for AKTO and ATLAS [C3], and taken as the SOR
# back-end's, so Mobilités' too [I]; /v2/certificats at AFDAS only, since 2025-10-20 [C3 GSMS-NOTE].
CONVENTIONS_NOT_TAKEN = frozenset({Opco.SANTE})
DOCUMENTS_TAKEN = frozenset({Opco.AKTO, Opco.ATLAS, Opco.MOBILITES})
CERTIFICATS_V2_TAKEN = frozenset({Opco.AFDAS})


def with_document_routes(profile: OpcoProfile) -> OpcoProfile:
    return replace(
        profile,
        conventions=profile.opco not in CONVENTIONS_NOT_TAKEN,
        documents=profile.opco in DOCUMENTS_TAKEN,
        certificats_v2=profile.opco in CERTIFICATS_V2_TAKEN,
    )


CATALOGUE: Mapping[Opco, OpcoProfile] = catalogue(Environment.PRODUCTION)
