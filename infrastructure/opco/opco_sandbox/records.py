"""What the sandbox stores: CFA keys, OAuth tokens and the dossiers as received."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.opco.opcos import Opco

# In the stored blocks of a dossier deposited elsewhere (elsewhere_routes): {"sansNumeroInterne", "numeroDeca"}
DEPOT = "_depotAilleurs"
# Fields the OPCO sets: never stored from a submission, always added when a dossier is read.
OPCO_FIELDS = ("numeroInterne", "numeroExterne", "numeroDeca", "etat", "commentaireEtat")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A CFA's key at one OPCO, bound to the CFA's SIREN."""

    api_key: str
    opco: Opco
    siren: str
    expires_on: date


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    opco: Opco
    expires_at: datetime
    jkt: str | None = None  # the thumbprint of the DPoP key the token is bound to (RFC 9449), if any


@dataclass(frozen=True, slots=True)
class StoredDossier:
    opco: Opco
    siren: str
    numero_interne: str
    numero_externe: str
    sequence: int  # per OPCO, from 1, in order of submission
    submitted_at: datetime
    cerfa: dict[str, Any]  # the blocks as received, without OPCO_FIELDS


def numero_externe(opco: Opco, submitted_at: datetime, sequence: int) -> str:
    return f"{opco.value}-{submitted_at.year}-{sequence:06d}"


def blocks_of(cerfa: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in cerfa.items() if name not in OPCO_FIELDS}


def new_oauth_client() -> tuple[str, str]:
    """The software's OAuth client at a sandbox installation: drawn once, kept in its store (never a constant)."""
    return f"convergence-{secrets.token_hex(4)}", secrets.token_urlsafe(32)


def shown_numero_interne(dossier: StoredDossier) -> str | None:
    """None for a dossier deposited elsewhere without one."""
    return None if _depot(dossier).get("sansNumeroInterne") else dossier.numero_interne


def forced_deca(dossier: StoredDossier) -> str | None:
    value = _depot(dossier).get("numeroDeca")
    return value if isinstance(value, str) and value else None


def wire_blocks(dossier: StoredDossier) -> dict[str, Any]:
    """The stored blocks as the OPCO shows them."""
    return {name: value for name, value in dossier.cerfa.items() if name != DEPOT}


def _depot(dossier: StoredDossier) -> dict[str, Any]:
    depot = dossier.cerfa.get(DEPOT)
    return depot if isinstance(depot, dict) else {}
