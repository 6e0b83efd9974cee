"""Completeness: the fields an OPCO needs to instruct the contract, some of them only in given cases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from pydantic import BaseModel

from domain.cerfa.dates import birthday
from domain.cerfa.model import Apprenti, Cerfa, Contrat
from domain.problems import Problem

_ADDRESS: Final = ("voie", "codePostal", "commune")
_MAITRE: Final = ("nom", "prenom", "dateNaissance", "emploiOccupe", "niveauDiplome", "diplome")

REQUIRED: Final[tuple[str, ...]] = (
    *(
        f"employeur.{name}"
        for name in (
            "denomination",
            "siret",
            "typeEmployeur",
            "employeurSpecifique",
            "naf",
            "nombreDeSalaries",
            "codeIdcc",
        )
    ),
    *(f"employeur.adresse.{name}" for name in _ADDRESS),
    *(
        f"apprenti.{name}"
        for name in (
            "nom",
            "prenom",
            "sexe",
            "dateNaissance",
            "departementNaissance",
            "communeNaissance",
            "nationalite",
            "regimeSocial",
            "handicap",
            "situationAvantContrat",
            "diplome",
            "derniereClasse",
            "diplomePrepare",
        )
    ),
    *(f"apprenti.adresse.{name}" for name in _ADDRESS),
    *(f"maitre1.{name}" for name in _MAITRE),
    *(
        f"formation.{name}"
        for name in (
            "rncp",
            "codeDiplome",
            "intituleQualification",
            "dateDebutFormation",
            "dateFinFormation",
            "dureeFormation",
        )
    ),
    *(
        f"contrat.{name}"
        for name in (
            "typeContratApp",
            "modeContractuel",
            "dateConclusion",
            "dateDebutContrat",
            "dateFinContrat",
            "dureeTravailHebdoHeures",
            "salaireEmbauche",
            "remunerationsAnnuelles",
            "lieuSignatureContrat",
        )
    ),
    *(f"organismeFormation.{name}" for name in ("denomination", "siret", "uaiCfa")),
    *(f"organismeFormation.adresse.{name}" for name in _ADDRESS),
)

# (telephone, courriel) pairs: one of the two is enough to reach the person.
CONTACTS: Final = ("employeur", "apprenti")

_FOLLOWS_PREVIOUS_CONTRACT: Final = frozenset({21, 22, 23, 31, 32, 33, 34, 35, 36, 37})
_AMENDMENTS_WITH_EFFECT_DATE: Final = frozenset({31, 32, 33, 34, 35, 36, 37})
_PERIOD: Final = ("dateDebut", "dateFin", "taux")


def missing_fields(cerfa: Cerfa) -> list[Problem]:
    paths = [path for path in REQUIRED if _is_missing(cerfa, path)]
    paths += _conditional_paths(cerfa)
    problems = [_required(path) for path in paths]
    problems += [_contact_required(block) for block in CONTACTS if _has_no_contact(cerfa, block)]
    return problems


def _conditional_paths(cerfa: Cerfa) -> Iterator[str]:
    if cerfa.maitre2 is not None and cerfa.maitre2.model_dump(exclude_none=True):
        yield from (f"maitre2.{name}" for name in _MAITRE if _is_missing(cerfa, f"maitre2.{name}"))
    if cerfa.contrat is not None:
        yield from _contract_paths(cerfa.contrat, cerfa.apprenti)
    if cerfa.apprenti is not None and cerfa.apprenti.apprentiMineurNonEmancipe:
        yield from _legal_guardian_paths(cerfa, cerfa.apprenti)


def _contract_paths(contrat: Contrat, apprenti: Apprenti | None) -> Iterator[str]:
    if contrat.typeContratApp in _FOLLOWS_PREVIOUS_CONTRACT and contrat.numeroContratPrecedent is None:
        yield "contrat.numeroContratPrecedent"
    if contrat.typeContratApp in _AMENDMENTS_WITH_EFFECT_DATE and contrat.dateEffetAvenant is None:
        yield "contrat.dateEffetAvenant"
    periods = contrat.remunerationsAnnuelles or []
    for index, period in enumerate(periods):
        yield from (f"contrat.remunerationsAnnuelles.{index}.{n}" for n in _PERIOD if getattr(period, n) is None)
    if contrat.smc is None and _smc_needed(contrat, apprenti):
        yield "contrat.smc"


def _smc_needed(contrat: Contrat, apprenti: Apprenti | None) -> bool:
    """The SMC (the collective agreement's minimum wage) is asked when a pay period is a % of it and the
    apprentice is 21 before the contract ends (the SMC only applies from 21)."""
    uses_smc = any(period.typeSalaire == "SMC" for period in contrat.remunerationsAnnuelles or [])
    if not uses_smc or apprenti is None or apprenti.dateNaissance is None or contrat.dateFinContrat is None:
        return False
    return birthday(apprenti.dateNaissance, 21) <= contrat.dateFinContrat


def _legal_guardian_paths(cerfa: Cerfa, apprenti: Apprenti) -> Iterator[str]:
    names = ["nom", "prenom"]
    guardian = apprenti.responsableLegal
    if guardian is None or not guardian.memeAdresse:
        names += [f"adresse.{name}" for name in _ADDRESS]
    yield from (f"apprenti.responsableLegal.{n}" for n in names if _is_missing(cerfa, f"apprenti.responsableLegal.{n}"))


def _is_missing(cerfa: Cerfa, path: str) -> bool:
    value: object = cerfa
    for name in path.split("."):
        if not isinstance(value, BaseModel):
            return True
        value = getattr(value, name)
    return value is None or value == []


def _has_no_contact(cerfa: Cerfa, block: str) -> bool:
    return _is_missing(cerfa, f"{block}.telephone") and _is_missing(cerfa, f"{block}.courriel")


def _required(path: str) -> Problem:
    return Problem(f"cerfa.{path}", "required", f"{path} is required to submit the contract")


def _contact_required(block: str) -> Problem:
    return Problem(
        f"cerfa.{block}.courriel",
        "required",
        f"{block}: an email address (courriel) or a telephone number is required to submit the contract",
    )
