"""The people of the contract: the boxes about them, the minor and their representative, the age derogations,
the employer's declarations. Each rule with a case it blocks and the nearest case it lets through."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.unit.domain.cerfa_support import DELETE, GUARDIAN, born, fields_with, found, message_of, nir_of

# --- boxes that must be answered -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "box",
    [
        "employeur.privePublic",
        "apprenti.lieuNaissanceFrance",
        "apprenti.handicap",
        "apprenti.inscriptionSportifDeHautNiveau",
        "apprenti.projetCreationRepriseEntreprise",
        "apprenti.apprentiMineur",
        "contrat.travailRisque",
        "contrat.avantageNature",
        "organismeFormation.formationInterne",
        "etablissementFormation.memeResponsable",
    ],
)
def test_a_yes_no_box_left_empty_is_missing_but_no_is_an_answer(box: str) -> None:
    assert found({box: DELETE}) == {(f"cerfa.{box}", "required")}
    assert (f"cerfa.{box}", "required") not in found({box: False})


def test_the_masters_eligibility_is_attested_with_the_master_or_with_the_employer() -> None:
    assert found({"maitre1.attestationEligibilite": DELETE}) == set()
    assert found({"employeur.attestationEligibilite": DELETE}) == set()
    both = {"maitre1.attestationEligibilite": DELETE, "employeur.attestationEligibilite": DELETE}
    assert found(both) == {("cerfa.maitre1.attestationEligibilite", "required")}


def test_an_attestation_answered_no_blocks_the_contract() -> None:
    refused = {"maitre1.attestationEligibilite": False, "employeur.attestationEligibilite": DELETE}
    assert found(refused) == {("cerfa.maitre1.attestationEligibilite", "attestation_not_given")}
    assert found({"maitre1.attestationEligibilite": False}) == set()  # the employer's box attests it
    assert found({"employeur.attestationPieces": False}) == {
        ("cerfa.employeur.attestationPieces", "attestation_not_given")
    }


def test_an_employer_declared_public_files_with_celia() -> None:
    assert found({"employeur.privePublic": False}) == {("cerfa.employeur.privePublic", "public_employer")}
    assert found({"employeur.privePublic": True}) == set()


def test_a_separate_training_place_is_described() -> None:
    elsewhere: dict[str, Any] = {"etablissementFormation": {"memeResponsable": False}}
    assert found(elsewhere) == {
        (f"cerfa.etablissementFormation.{name}", "required")
        for name in ("denomination", "siret", "adresse.voie", "adresse.codePostal", "adresse.commune")
    }
    place = {  # a second site of the CFA: same SIREN, its own establishment number and UAI
        "memeResponsable": False,
        "denomination": "CFA Numérique Rhône, site de Villeurbanne",
        "siret": "79852413800038",
        "uaiCfa": "0694567P",
        "adresse": {"numero": 24, "voie": "rue Michel Servet", "codePostal": "69100", "commune": "Villeurbanne"},
    }
    assert found({"etablissementFormation": place}) == set()


# --- birth place ----------------------------------------------------------------------------------------


def test_born_abroad_is_99_and_99_is_born_abroad() -> None:
    assert found({"apprenti.lieuNaissanceFrance": False}) == {
        ("cerfa.apprenti.departementNaissance", "birthplace_inconsistent")
    }
    abroad = {
        "apprenti.lieuNaissanceFrance": False,
        "apprenti.departementNaissance": "99",
        "apprenti.communeNaissance": "Madrid",
        "apprenti.nationalite": 2,
        "apprenti.nir": nir_of("2", date(2007, 3, 14), place="99134"),
    }
    assert found(abroad) == set()
    assert found({**abroad, "apprenti.lieuNaissanceFrance": True}) == {
        ("cerfa.apprenti.departementNaissance", "birthplace_inconsistent")
    }


@pytest.mark.parametrize(
    ("departement", "known"),
    [
        ("00", False),
        ("20", False),
        ("96", False),
        ("98", False),
        ("2A", True),
        ("95", True),
        ("975", True),
        ("976", True),
    ],
)
def test_the_birth_departement_is_one_of_insee(departement: str, known: bool) -> None:
    """20 is Corsica before 1976 (2A/2B since), 96 and 00 name nothing: a problem, not a parse failure, so that a
    draft stored before the rule still reads back."""
    problems = fields_with("departement_unknown", {"apprenti.departementNaissance": departement})
    assert problems == ([] if known else ["cerfa.apprenti.departementNaissance"])


# --- the minor and the legal representative -------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "minor"),
    [("2008-07-10", False), ("2008-07-11", True)],  # 18 on the conclusion date (2026-07-10), or the day after
)
def test_minority_is_judged_on_the_conclusion_date(birth: str, minor: bool) -> None:
    assert found(born(birth)) == set()
    wrong = {**born(birth), "apprenti.apprentiMineur": not minor}
    assert ("cerfa.apprenti.apprentiMineur", "minor_inconsistent") in found(wrong)


def test_a_minor_states_whether_emancipated() -> None:
    minor = {
        **{path: value for path, value in born("2009-03-14").items() if path != "apprenti.responsableLegal"},
        "apprenti.apprentiMineurNonEmancipe": DELETE,
    }
    assert fields_with("required", minor) == [
        "cerfa.apprenti.apprentiMineurNonEmancipe",
        "cerfa.apprenti.responsableLegal.nom",
        "cerfa.apprenti.responsableLegal.prenom",
        "cerfa.apprenti.responsableLegal.courriel",
        "cerfa.apprenti.responsableLegal.memeAdresse",
    ]


def test_an_emancipated_minor_signs_alone() -> None:
    emancipated = {**born("2009-03-14"), "apprenti.apprentiMineurNonEmancipe": False, "apprenti.responsableLegal": {}}
    assert found(emancipated) == set()


def test_only_a_minor_is_stated_not_emancipated() -> None:
    adult = {"apprenti.apprentiMineurNonEmancipe": True, "apprenti.responsableLegal": GUARDIAN}
    assert found(adult) == {("cerfa.apprenti.apprentiMineurNonEmancipe", "minor_inconsistent")}


def test_the_representatives_address_is_asked_when_they_live_apart() -> None:
    apart = {**born("2009-03-14"), "apprenti.responsableLegal": {**GUARDIAN, "memeAdresse": False}}
    assert found(apart) == {
        (f"cerfa.apprenti.responsableLegal.adresse.{name}", "required")
        for name in ("voie", "codePostal", "commune", "pays")
    }
    address = {"numero": 12, "voie": "rue Garibaldi", "codePostal": "69006", "commune": "Lyon", "pays": "FR"}
    assert found({**apart, "apprenti.responsableLegal.adresse": address}) == set()


# --- age derogations ------------------------------------------------------------------------------------


def _follow_on(type_contrat: int = 22) -> dict[str, Any]:
    return {"contrat.typeContratApp": type_contrat, "contrat.numeroContratPrecedent": "069202509001234"}


def test_derogation_50_stands_for_the_over_29_derogation_up_to_35() -> None:
    assert fields_with("apprentice_too_old", {**born("1990-07-11"), **_follow_on(), "contrat.typeDerogation": 50}) == []
    assert fields_with("apprentice_too_old", {**born("1990-07-10"), **_follow_on(), "contrat.typeDerogation": 50}) == [
        "cerfa.apprenti.dateNaissance"
    ]


def test_past_29_a_first_contract_is_impossible_without_an_exemption() -> None:
    over = {**born("1996-09-01"), "contrat.typeDerogation": 12}
    assert fields_with("first_contract_over_29", over) == ["cerfa.contrat.typeContratApp"]
    assert "it cannot be a first contract (type 11)" in message_of("first_contract_over_29", over)
    assert fields_with("first_contract_over_29", {**over, **_follow_on()}) == []
    assert fields_with("first_contract_over_29", born("1996-09-02")) == []  # 29 on the day the contract starts
    business = {**born("1990-09-02"), "apprenti.projetCreationRepriseEntreprise": True}
    assert fields_with("first_contract_over_29", business) == []


def test_at_15_the_apprentice_has_completed_lower_secondary_school() -> None:
    fifteen = {**born("2011-09-01"), "contrat.typeDerogation": 11}
    assert found({**fifteen, "apprenti.derniereClasse": "41"}) == {
        ("cerfa.apprenti.derniereClasse", "under_16_secondary_not_completed")
    }
    assert found({**fifteen, "apprenti.derniereClasse": "40"}) == set()
    assert found({**born("2010-09-01"), "apprenti.derniereClasse": "42"}) == set()  # 16: no condition
