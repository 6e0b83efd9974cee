"""What each OPCO offers over the API Convergence: protocol version, capabilities, known addresses.

Facts from ../shared/reference/api-convergence.md §1, §2 and §5 (capability matrix of 2026-07-28, third-party
source). Every value can be overridden in the settings; an unknown base URL must be configured before use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.opcos import Opco


@dataclass(frozen=True, slots=True)
class OpcoProfile:
    opco: Opco
    base_url: str | None
    protocol: int  # 1 or 2: path prefix of dossiers and their states
    contracts: bool  # accepts contracts (POST /dossiers)
    invoices: bool  # accepts invoices (POST /v1/factures)
    invoice_states: bool  # offers GET /v2/factures/etats
    ruptures: bool  # accepts POST /v2/dossiers/rupture/employeur
    oauth: bool  # puts OAuth2 client credentials on top of the API key
    oauth_scope: str | None = None
    token_url: str | None = None  # the OAuth2 token endpoint, where `oauth`


def _profile(opco: Opco, *, v2: bool = False, **overrides: object) -> OpcoProfile:
    values: dict[str, object] = {
        "base_url": None,
        "protocol": 2 if v2 else 1,
        "contracts": True,
        "invoices": True,
        "invoice_states": v2,
        "ruptures": v2,
        "oauth": False,
    }
    values.update(overrides)
    return OpcoProfile(opco=opco, **values)  # type: ignore[arg-type]


CATALOGUE: Mapping[Opco, OpcoProfile] = {
    p.opco: p
    for p in (
        _profile(Opco.AFDAS, base_url="https://api-cfa-recette.afdas.com", oauth=True, oauth_scope="CFA_OPCO"),
        _profile(Opco.AKTO, v2=True, oauth=True, oauth_scope=".default"),
        _profile(Opco.ATLAS, v2=True, base_url="https://apiopco.opcoserveur.fr/ApiEchangeCFA"),
        _profile(Opco.CONSTRUCTYS),
        _profile(Opco.OCAPIAT, v2=True),
        _profile(Opco.OPCO2I),
        _profile(Opco.OPCOEP, oauth=True),
        _profile(Opco.MOBILITES, v2=True),
        _profile(Opco.SANTE, contracts=False),
        _profile(Opco.COHESION_SOCIALE, invoices=False),
        _profile(Opco.OPCOMMERCE, v2=True),
    )
}
