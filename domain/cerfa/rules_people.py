"""Consistency rules about the people of the contract: the apprentice's identity and age, the legal
representative, the masters, the employer's own declarations. Sources in docs/cerfa-rules.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from domain.cerfa.dates import age_on
from domain.cerfa.departements import ABROAD, BIRTH_DEPARTEMENTS
from domain.cerfa.facts import age_limit_lifted, minor_at_conclusion
from domain.cerfa.model import Cerfa
from domain.cerfa.nir import nir_problems
from domain.problems import Problem

FIRST_CONTRACT: Final = 11
OLDEST_WITHOUT_DEROGATION: Final = 29
UNDER_16_DEROGATIONS: Final = frozenset({11, 50})
SECONDARY_NOT_COMPLETED: Final = frozenset({"41", "42"})  # left school in 3e or 4e


def _problem(path: str, code: str, message: str) -> Problem:
    return Problem(f"cerfa.{path}", code, message)


def apprentice_nir(cerfa: Cerfa) -> Iterator[Problem]:
    apprenti = cerfa.apprenti
    if apprenti is None or apprenti.nir is None:
        return
    yield from nir_problems(
        "apprenti",
        apprenti.nir,
        birth=apprenti.dateNaissance,
        sexe=apprenti.sexe,
        departement=apprenti.departementNaissance,
    )


def maitre_nir(cerfa: Cerfa) -> Iterator[Problem]:
    for key, maitre in (("maitre1", cerfa.maitre1), ("maitre2", cerfa.maitre2)):
        if maitre is not None and maitre.nir is not None:
            yield from nir_problems(key, maitre.nir, birth=maitre.dateNaissance)


def birthplace(cerfa: Cerfa) -> Iterator[Problem]:
    apprenti = cerfa.apprenti
    if apprenti is None or apprenti.lieuNaissanceFrance is None or apprenti.departementNaissance is None:
        return
    abroad = apprenti.departementNaissance == ABROAD
    if apprenti.lieuNaissanceFrance == abroad:
        said = "born in France" if apprenti.lieuNaissanceFrance else "born abroad"
        yield _problem(
            "apprenti.departementNaissance",
            "birthplace_inconsistent",
            f"the apprentice is stated {said} but the birth département is {apprenti.departementNaissance}; "
            "99 is the code of a birth abroad, and only of it",
        )


def birth_departement(cerfa: Cerfa) -> Iterator[Problem]:
    departement = cerfa.apprenti.departementNaissance if cerfa.apprenti else None
    if departement is not None and departement not in BIRTH_DEPARTEMENTS:
        yield _problem(
            "apprenti.departementNaissance",
            "departement_unknown",
            f"{departement} is not a birth département: INSEE's codes are 01–19, 2A, 2B, 21–95, 971–976, an "
            "overseas collectivity 975, 977, 978, 984, 986–989, or 99 for a birth abroad",
        )


def minor_statements(cerfa: Cerfa) -> Iterator[Problem]:
    """`apprentiMineur` answers "is the apprentice a minor on the signature date?": the dates must agree, and only
    a minor can be stated not emancipated."""
    apprenti, contrat = cerfa.apprenti, cerfa.contrat
    if apprenti is None:
        return
    minor = minor_at_conclusion(apprenti, contrat)
    if apprenti.apprentiMineur is not None and minor is not None and apprenti.apprentiMineur != minor:
        conclusion = contrat.dateConclusion if contrat else None
        age = age_on(apprenti.dateNaissance, conclusion) if apprenti.dateNaissance and conclusion else None
        yield _problem(
            "apprenti.apprentiMineur",
            "minor_inconsistent",
            f"the apprentice is {age} on the conclusion date ({conclusion}): apprentiMineur must be "
            f"{str(minor).lower()}",
        )
    if apprenti.apprentiMineurNonEmancipe and minor is False:
        yield _problem(
            "apprenti.apprentiMineurNonEmancipe",
            "minor_inconsistent",
            "apprentiMineurNonEmancipe is true but the apprentice is not a minor on the conclusion date",
        )


def first_contract_over_29(cerfa: Cerfa) -> Iterator[Problem]:
    """From 30, without RQTH, sport or business project, only the cases of L6222-2 1° and 2° remain (derogation
    12): each follows a previous apprenticeship contract, so the contract cannot be a first one (type 11)."""
    apprenti, contrat = cerfa.apprenti, cerfa.contrat
    if apprenti is None or contrat is None or contrat.typeContratApp != FIRST_CONTRACT:
        return
    if apprenti.dateNaissance is None or contrat.dateDebutContrat is None or age_limit_lifted(apprenti):
        return
    age = age_on(apprenti.dateNaissance, contrat.dateDebutContrat)
    if age > OLDEST_WITHOUT_DEROGATION:
        yield _problem(
            "contrat.typeContratApp",
            "first_contract_over_29",
            f"the apprentice is {age} at the contract start: past 29 an apprenticeship follows a previous "
            "contract (L6222-2 1° and 2°, derogation 12), so it cannot be a first contract (type 11), unless "
            "RQTH, a high-level athlete or a business project lifts the age limit",
        )


def under_16_secondary_school(cerfa: Cerfa) -> Iterator[Problem]:
    """At 15, an apprentice must have completed lower secondary school (collège), L6222-1 al. 2."""
    apprenti, contrat = cerfa.apprenti, cerfa.contrat
    if apprenti is None or contrat is None or apprenti.derniereClasse not in SECONDARY_NOT_COMPLETED:
        return
    if apprenti.dateNaissance is None or contrat.dateDebutContrat is None:
        return
    if age_on(apprenti.dateNaissance, contrat.dateDebutContrat) == 15:
        yield _problem(
            "apprenti.derniereClasse",
            "under_16_secondary_not_completed",
            f"the apprentice is 15 at the contract start and left school in class "
            f"{'3e' if apprenti.derniereClasse == '41' else '4e'}: before 16 an apprenticeship needs the first "
            "cycle of secondary school completed (L6222-1)",
        )


def private_employer(cerfa: Cerfa) -> Iterator[Problem]:
    if cerfa.employeur is not None and cerfa.employeur.privePublic is False:
        yield _problem(
            "employeur.privePublic",
            "public_employer",
            "the employer is declared public: its contracts are filed with the DDETS through CELIA, not with an OPCO",
        )


def attestations(cerfa: Cerfa) -> Iterator[Problem]:
    """The employer's two sworn statements are boxes to tick: a "no" blocks the contract as their absence does."""
    employeur, maitre1 = cerfa.employeur, cerfa.maitre1
    if employeur is not None and employeur.attestationPieces is False:
        yield _problem(
            "employeur.attestationPieces",
            "attestation_not_given",
            "the employer must attest holding every supporting document the filing needs",
        )
    answers = {
        "maitre1.attestationEligibilite": maitre1.attestationEligibilite if maitre1 else None,
        "employeur.attestationEligibilite": employeur.attestationEligibilite if employeur else None,
    }
    if True not in answers.values() and False in answers.values():
        path = next(path for path, answer in answers.items() if answer is False)
        yield _problem(
            path,
            "attestation_not_given",
            "the employer must attest that the apprenticeship master meets the eligibility criteria (R6223-22)",
        )


RULES: Final = (
    apprentice_nir,
    maitre_nir,
    birthplace,
    birth_departement,
    minor_statements,
    first_contract_over_29,
    under_16_secondary_school,
    private_employer,
    attestations,
)
