"""Facts derived from several fields of the Cerfa, which both the completeness and the consistency rules ask."""

from __future__ import annotations

from typing import Final

from domain.cerfa.dates import age_on
from domain.cerfa.departements import is_mayotte_postcode
from domain.cerfa.model import Apprenti, Cerfa, Contrat

MAJORITY: Final = 18


def age_limit_lifted(apprenti: Apprenti) -> bool:
    """RQTH, a high-level athlete, or a business creation or takeover project: no upper age (L6222-2 3° to 5°)."""
    return bool(
        apprenti.handicap or apprenti.inscriptionSportifDeHautNiveau or apprenti.projetCreationRepriseEntreprise
    )


def minor_at_conclusion(apprenti: Apprenti | None, contrat: Contrat | None) -> bool | None:
    """Whether the apprentice is under 18 when the contract is signed: computed from the dates when both are
    given, else as the Cerfa states it (apprentiMineur), else unknown."""
    if apprenti is None:
        return None
    birth = apprenti.dateNaissance
    conclusion = contrat.dateConclusion if contrat else None
    if birth is not None and conclusion is not None:
        return age_on(birth, conclusion) < MAJORITY
    return apprenti.apprentiMineur


def works_in_mayotte(cerfa: Cerfa) -> bool:
    """The contract is executed in Mayotte, whose SMIC is its own (the employer's establishment, by its postcode)."""
    adresse = cerfa.employeur.adresse if cerfa.employeur else None
    return is_mayotte_postcode(adresse.codePostal if adresse else None)
