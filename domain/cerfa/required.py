"""Completeness: the fields an OPCO needs to instruct the contract, some of them only in given cases.

The list is the contract app's (`shared/helpers/cerfa/schema/*Schema.ts`: every field marked `required`, and the
conditional ones of `responsableLegal.control.ts`, `typeContratApp.control.ts`, `etablissementFormation.control.ts`,
`shouldShowSmc.ts`). A yes/no box of the Cerfa is required too: absent is not "no" (docs/cerfa-rules.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from pydantic import BaseModel

from domain.cerfa.dates import age_on
from domain.cerfa.facts import minor_at_conclusion
from domain.cerfa.model import Apprenti, Cerfa, Contrat
from domain.opco.opcos import IDCC_WITHOUT_AGREEMENT
from domain.problems import Problem

_ADDRESS: Final = ("voie", "codePostal", "commune")
_MAITRE: Final = ("nom", "prenom", "dateNaissance", "emploiOccupe", "niveauDiplome", "diplome")

REQUIRED: Final[tuple[str, ...]] = (
    *(
        f"employeur.{name}"
        for name in (
            "privePublic",
            "denomination",
            "siret",
            "telephone",
            "courriel",
            "typeEmployeur",
            "employeurSpecifique",
            "naf",
            "nombreDeSalaries",
            "codeIdcc",
            "libelleIdcc",
            "attestationPieces",
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
            "lieuNaissanceFrance",
            "departementNaissance",
            "communeNaissance",
            "nationalite",
            "regimeSocial",
            "telephone",
            "courriel",
            "handicap",
            "inscriptionSportifDeHautNiveau",
            "projetCreationRepriseEntreprise",
            "situationAvantContrat",
            "diplome",
            "derniereClasse",
            "diplomePrepare",
            "intituleDiplomePrepare",
            "apprentiMineur",
        )
    ),
    *(f"apprenti.adresse.{name}" for name in _ADDRESS),
    *(f"maitre1.{name}" for name in (*_MAITRE, "courriel")),
    *(
        f"formation.{name}"
        for name in (
            "rncp",
            "codeDiplome",
            "typeDiplome",
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
            "dateDebutFormationPratique",
            "dateFinContrat",
            "dureeTravailHebdoHeures",
            "travailRisque",
            "caisseRetraiteComplementaire",
            "avantageNature",
            "salaireEmbauche",
            "remunerationsAnnuelles",
            "lieuSignatureContrat",
        )
    ),
    *(f"organismeFormation.{name}" for name in ("denomination", "formationInterne", "siret", "uaiCfa")),
    *(f"organismeFormation.adresse.{name}" for name in _ADDRESS),
    "etablissementFormation.memeResponsable",
)

_AMENDMENTS_WITH_EFFECT_DATE: Final = frozenset({31, 32, 33, 34, 35, 36, 37})
_PERIOD: Final = ("dateDebut", "dateFin", "taux", "tauxMinimal", "typeSalaire", "salaireBrut", "ordre")
_GUARDIAN: Final = ("nom", "prenom", "courriel", "memeAdresse")
_GUARDIAN_ADDRESS: Final = (*_ADDRESS, "pays")
_TRAINING_PLACE: Final = ("denomination", "siret", *(f"adresse.{name}" for name in _ADDRESS))
SMC_AGE: Final = 21


def missing_fields(cerfa: Cerfa) -> list[Problem]:
    paths = [path for path in REQUIRED if _is_missing(cerfa, path)]
    paths += _conditional_paths(cerfa)
    return [_required(path) for path in paths]


def _conditional_paths(cerfa: Cerfa) -> Iterator[str]:
    if cerfa.maitre2 is not None and cerfa.maitre2.model_dump(exclude_none=True):
        yield from (f"maitre2.{name}" for name in _MAITRE if _is_missing(cerfa, f"maitre2.{name}"))
    if _no_eligibility_answer(cerfa):
        yield "maitre1.attestationEligibilite"
    if cerfa.contrat is not None:
        yield from _contract_paths(cerfa.contrat, cerfa)
    if cerfa.apprenti is not None:
        yield from _minor_paths(cerfa, cerfa.apprenti)
    if cerfa.etablissementFormation is not None and cerfa.etablissementFormation.memeResponsable is False:
        names = (f"etablissementFormation.{name}" for name in _TRAINING_PLACE)
        yield from (path for path in names if _is_missing(cerfa, path))


def _no_eligibility_answer(cerfa: Cerfa) -> bool:
    """The employer's attestation that the master is eligible (R6223-22) sits with the master since Cerfa
    version 10 and with the employer before: either place answers it."""
    return _is_missing(cerfa, "maitre1.attestationEligibilite") and _is_missing(
        cerfa, "employeur.attestationEligibilite"
    )


def _contract_paths(contrat: Contrat, cerfa: Cerfa) -> Iterator[str]:
    if contrat.typeContratApp in _AMENDMENTS_WITH_EFFECT_DATE:
        if contrat.numeroContratPrecedent is None:
            yield "contrat.numeroContratPrecedent"
        if contrat.dateEffetAvenant is None:
            yield "contrat.dateEffetAvenant"
    periods = contrat.remunerationsAnnuelles or []
    for index, period in enumerate(periods):
        yield from (f"contrat.remunerationsAnnuelles.{index}.{n}" for n in _PERIOD if getattr(period, n) is None)
    if contrat.smc is None and _smc_needed(contrat, cerfa):
        yield "contrat.smc"


def _smc_needed(contrat: Contrat, cerfa: Cerfa) -> bool:
    """The SMC (the collective agreement's minimum wage) is asked when the apprentice is 21 before the contract
    ends (from 21 the minimum pay is a % of the SMC when it is higher than the SMIC, D6222-26), unless the
    employer applies no agreement (IDCC 9999) or one still under negotiation (9998)."""
    apprenti, employeur = cerfa.apprenti, cerfa.employeur
    if apprenti is None or apprenti.dateNaissance is None or contrat.dateFinContrat is None:
        return False
    if employeur is not None and employeur.codeIdcc in IDCC_WITHOUT_AGREEMENT:
        return False
    return age_on(apprenti.dateNaissance, contrat.dateFinContrat) >= SMC_AGE


def _minor_paths(cerfa: Cerfa, apprenti: Apprenti) -> Iterator[str]:
    """A minor at the signature states whether a legal representative answers for them (not emancipated); a
    minor not stated as emancipated names the representative, who signs the contract (L6222-1, Code civil
    art. 413-6: the emancipated minor is capable as an adult)."""
    minor = minor_at_conclusion(apprenti, cerfa.contrat)
    if minor and apprenti.apprentiMineurNonEmancipe is None:
        yield "apprenti.apprentiMineurNonEmancipe"
    if apprenti.apprentiMineurNonEmancipe or (minor and apprenti.apprentiMineurNonEmancipe is None):
        yield from _guardian_paths(cerfa, apprenti)


def _guardian_paths(cerfa: Cerfa, apprenti: Apprenti) -> Iterator[str]:
    names = list(_GUARDIAN)
    guardian = apprenti.responsableLegal
    if guardian is not None and guardian.memeAdresse is False:
        names += [f"adresse.{name}" for name in _GUARDIAN_ADDRESS]
    yield from (f"apprenti.responsableLegal.{n}" for n in names if _is_missing(cerfa, f"apprenti.responsableLegal.{n}"))


def _is_missing(cerfa: Cerfa, path: str) -> bool:
    value: object = cerfa
    for name in path.split("."):
        if not isinstance(value, BaseModel):
            return True
        value = getattr(value, name)
    return value is None or value == []


def _required(path: str) -> Problem:
    return Problem(f"cerfa.{path}", "required", f"{path} is required to submit the contract")
