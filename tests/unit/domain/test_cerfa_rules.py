"""Submission checks of the Cerfa. Each case starts from the complete example and changes what it tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.cerfa import Cerfa, check_cerfa
from domain.cerfa.dates import add_months
from domain.cerfa.remuneration import bracket_age, contract_year, minimum_monthly_pay, minimum_rate_on, smic_on
from domain.cerfa.required import REQUIRED
from tests.unit.domain.cerfa_support import (
    COMPLETE,
    DELETE,
    EXAMPLES,
    born,
    fields_with,
    found,
    message_of,
)

# --- the examples ---------------------------------------------------------------------------------


def test_the_complete_example_has_no_problem() -> None:
    assert check_cerfa(Cerfa.model_validate(COMPLETE)) == []


def test_the_complete_example_is_already_in_normalised_form_and_round_trips() -> None:
    cerfa = Cerfa.model_validate(COMPLETE)
    assert cerfa.to_document() == COMPLETE
    assert Cerfa.model_validate(cerfa.to_document()) == cerfa


def test_the_draft_example_is_format_valid_but_blocked() -> None:
    draft = Cerfa.model_validate_json((EXAMPLES / "cerfa-draft.json").read_text(encoding="utf-8"))
    problems = {(p.field, p.code) for p in check_cerfa(draft)}
    assert {
        ("cerfa.apprenti.dateNaissance", "apprentice_too_young"),
        ("cerfa.contrat.dateFinContrat", "contract_duration"),
        ("cerfa.contrat.dureeTravailHebdoHeures", "weekly_hours"),
        ("cerfa.employeur.typeEmployeur", "required"),
        ("cerfa.maitre1.nom", "required"),
        ("cerfa.organismeFormation.uaiCfa", "required"),
    } <= problems
    assert ("cerfa.apprenti.courriel", "required") not in problems


# --- required fields ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REQUIRED)
def test_each_required_field_is_reported_alone(path: str) -> None:
    assert found({path: DELETE}) == {(f"cerfa.{path}", "required")}


def test_a_missing_block_reports_each_of_its_required_fields() -> None:
    fields = fields_with("required", {"maitre1": DELETE})
    assert fields == [
        f"cerfa.maitre1.{n}"
        for n in ("nom", "prenom", "dateNaissance", "emploiOccupe", "niveauDiplome", "diplome", "courriel")
    ]


def test_an_empty_pay_schedule_is_missing() -> None:
    assert found({"contrat.remunerationsAnnuelles": []}) == {("cerfa.contrat.remunerationsAnnuelles", "required")}


@pytest.mark.parametrize("block", ["employeur", "apprenti"])
def test_both_a_telephone_and_an_email_are_required(block: str) -> None:
    # the contract app's employeurSchema / apprentiSchema mark both required; one alone is no longer enough
    assert found({f"{block}.telephone": DELETE}) == {(f"cerfa.{block}.telephone", "required")}
    assert found({f"{block}.courriel": DELETE}) == {(f"cerfa.{block}.courriel", "required")}


def test_the_nir_of_the_apprentice_is_optional() -> None:
    assert found({"apprenti.nir": DELETE}) == set()


@pytest.mark.parametrize("type_contrat", [21, 22, 23])
def test_a_follow_on_contract_may_omit_the_previous_number(type_contrat: int) -> None:
    # asked for 21-23 but required only for the amendments 31-37 (isRequiredNumeroContratPrecedent.ts)
    assert found({"contrat.typeContratApp": type_contrat}) == set()
    assert found({"contrat.typeContratApp": type_contrat, "contrat.numeroContratPrecedent": "069202409001234"}) == set()


def test_an_amendment_needs_the_previous_number_and_an_effect_date() -> None:
    assert found({"contrat.typeContratApp": 36}) == {
        ("cerfa.contrat.numeroContratPrecedent", "required"),
        ("cerfa.contrat.dateEffetAvenant", "required"),
    }


def test_amendment_38_needs_no_effect_date() -> None:
    assert found({"contrat.typeContratApp": 38}) == set()


def test_a_minor_not_emancipated_needs_a_legal_guardian() -> None:
    changes = {path: value for path, value in born("2009-03-14").items() if path != "apprenti.responsableLegal"}
    assert found(changes) == {
        ("cerfa.apprenti.responsableLegal.nom", "required"),
        ("cerfa.apprenti.responsableLegal.prenom", "required"),
        ("cerfa.apprenti.responsableLegal.courriel", "required"),
        ("cerfa.apprenti.responsableLegal.memeAdresse", "required"),
    }
    assert found(born("2009-03-14")) == set()


def test_a_second_master_once_named_is_complete() -> None:
    assert found({"maitre2": {"nom": "Bernard"}}) == {
        (f"cerfa.maitre2.{n}", "required")
        for n in ("prenom", "dateNaissance", "emploiOccupe", "niveauDiplome", "diplome")
    }


@pytest.mark.parametrize("name", ["dateDebut", "dateFin", "taux"])
def test_each_pay_period_has_dates_and_a_rate(name: str) -> None:
    assert found({f"contrat.remunerationsAnnuelles.1.{name}": DELETE}) == {
        (f"cerfa.contrat.remunerationsAnnuelles.1.{name}", "required")
    }


def test_the_smc_is_needed_when_the_apprentice_turns_21_by_the_contract_end() -> None:
    # shouldShowSmc.ts: asked whatever the periods' base, once the apprentice is 21 on the contract's last day
    assert fields_with("required", {**born("2007-08-31"), "contrat.smc": DELETE}) == ["cerfa.contrat.smc"]
    assert fields_with("required", {**born("2007-09-01"), "contrat.smc": DELETE}) == []


@pytest.mark.parametrize("idcc", ["9999", "9998"])
def test_no_smc_is_asked_without_a_collective_agreement(idcc: str) -> None:
    without = {"employeur.codeIdcc": idcc, "employeur.libelleIdcc": "Aucune convention collective"}
    assert fields_with("required", {**without, "contrat.smc": DELETE}) == []
    assert fields_with("required", {"employeur.codeIdcc": "1486", "contrat.smc": DELETE}) == ["cerfa.contrat.smc"]


# --- ages -----------------------------------------------------------------------------------------


def test_fifteen_and_364_days_is_too_young_without_derogation() -> None:
    assert found(born("2010-09-02")) == {("cerfa.apprenti.dateNaissance", "apprentice_too_young")}
    assert found(born("2010-09-01")) == set()


def test_a_birth_on_or_after_the_start_is_named_as_such_not_as_an_age() -> None:
    on_the_start = {code for field, code in found(born("2026-09-01")) if field == "cerfa.apprenti.dateNaissance"}
    assert on_the_start == {"birth_not_before_start"}
    the_day_before = {code for field, code in found(born("2026-08-31")) if field == "cerfa.apprenti.dateNaissance"}
    assert the_day_before == {"apprentice_too_young"}


@pytest.mark.parametrize("derogation", [11, 50])
def test_fifteen_is_allowed_with_derogation_11_or_50_but_not_fourteen(derogation: int) -> None:
    assert found({**born("2011-09-01"), "contrat.typeDerogation": derogation}) == set()
    assert found({**born("2011-09-02"), "contrat.typeDerogation": derogation}) == {
        ("cerfa.apprenti.dateNaissance", "apprentice_too_young")
    }


def test_derogation_11_at_16_is_inconsistent() -> None:
    assert found({**born("2010-09-01"), "contrat.typeDerogation": 11}) == {
        ("cerfa.contrat.typeDerogation", "derogation_inconsistent")
    }
    assert found({**born("2010-09-01"), "contrat.typeDerogation": 50}) == set()


def test_thirty_is_too_old_without_an_exemption_but_29_is_not() -> None:
    assert fields_with("apprentice_too_old", {"apprenti.dateNaissance": "1996-09-02"}) == []
    assert fields_with("apprentice_too_old", {"apprenti.dateNaissance": "1996-09-01"}) == [
        "cerfa.apprenti.dateNaissance"
    ]
    message = message_of("apprentice_too_old", {"apprenti.dateNaissance": "1996-09-01"})
    assert message.startswith("the apprentice is 30 at the contract start (2026-09-01); over 29 needs derogation 12")


@pytest.mark.parametrize(
    "exemption",
    ["apprenti.handicap", "apprenti.inscriptionSportifDeHautNiveau", "apprenti.projetCreationRepriseEntreprise"],
)
def test_rqth_sport_or_business_project_lift_the_age_limit(exemption: str) -> None:
    assert fields_with("apprentice_too_old", {"apprenti.dateNaissance": "1970-01-01", exemption: True}) == []


@pytest.mark.parametrize(
    ("birth", "blocked"),
    [
        ("1990-07-11", False),  # 35 on the conclusion date (2026-07-10), 36 at the start: D6222-1 judges the former
        ("1990-07-10", True),  # 36 on the conclusion date
    ],
)
def test_derogation_12_allows_up_to_35_on_the_conclusion_date(birth: str, blocked: bool) -> None:
    changes = {"apprenti.dateNaissance": birth, "contrat.typeDerogation": 12}
    assert fields_with("apprentice_too_old", changes) == (["cerfa.apprenti.dateNaissance"] if blocked else [])


def test_derogation_12_under_29_is_inconsistent() -> None:
    assert fields_with(
        "derogation_inconsistent", {"apprenti.dateNaissance": "1997-09-02", "contrat.typeDerogation": 12}
    ) == ["cerfa.contrat.typeDerogation"]
    assert (
        fields_with("derogation_inconsistent", {"apprenti.dateNaissance": "1997-09-01", "contrat.typeDerogation": 12})
        == []
    )


@pytest.mark.parametrize("key", ["maitre1", "maitre2"])
def test_a_master_must_be_18_at_the_contract_start(key: str) -> None:
    maitre = {name: value for name, value in COMPLETE["maitre1"].items() if name != "nir"}
    assert found({key: {**maitre, "dateNaissance": "2008-09-02"}}) == {
        (f"cerfa.{key}.dateNaissance", "maitre_too_young")
    }
    assert found({key: {**maitre, "dateNaissance": "2008-09-01"}}) == set()


# --- dates ----------------------------------------------------------------------------------------


def test_contracts_concluded_before_2020_are_not_handled() -> None:
    assert fields_with("concluded_before_2020", {"contrat.dateConclusion": "2019-12-31"}) == [
        "cerfa.contrat.dateConclusion"
    ]
    assert fields_with("concluded_before_2020", {"contrat.dateConclusion": "2020-01-01"}) == []


def test_an_initial_contract_is_concluded_before_it_starts() -> None:
    late: dict[str, Any] = {"contrat.dateConclusion": "2026-09-02", "contrat.dateDebutFormationPratique": "2026-09-02"}
    assert found(late) == {("cerfa.contrat.dateConclusion", "conclusion_after_start")}
    assert found({"contrat.dateConclusion": "2026-09-01"}) == set()


def test_an_amendment_may_be_concluded_after_the_start() -> None:
    amendment: dict[str, Any] = {
        "contrat.typeContratApp": 36,
        "contrat.numeroContratPrecedent": "069202607000123",
        "contrat.dateEffetAvenant": "2027-01-04",
        "contrat.dateConclusion": "2026-12-15",
    }
    assert fields_with("conclusion_after_start", amendment) == []
    assert fields_with("practical_training_start", amendment) == ["cerfa.contrat.dateDebutFormationPratique"]


@pytest.mark.parametrize(
    ("practical", "blocked"),
    [("2026-08-31", True), ("2026-09-01", False), ("2026-12-01", False), ("2026-12-02", True)],
)
def test_practical_training_starts_within_3_months_of_the_start(practical: str, blocked: bool) -> None:
    expected = {("cerfa.contrat.dateDebutFormationPratique", "practical_training_start")} if blocked else set()
    assert found({"contrat.dateDebutFormationPratique": practical}) == expected


def test_practical_training_does_not_start_before_the_conclusion() -> None:
    changes = {"contrat.dateConclusion": "2026-09-02"}
    assert fields_with("practical_training_start", changes) == ["cerfa.contrat.dateDebutFormationPratique"]


@pytest.mark.parametrize(
    ("training_start", "blocked"),
    [("2026-05-31", True), ("2026-06-01", False), ("2026-12-01", False), ("2026-12-02", True)],
)
def test_cfa_training_starts_within_3_months_of_the_contract_start(training_start: str, blocked: bool) -> None:
    expected = ["cerfa.formation.dateDebutFormation"] if blocked else []
    assert fields_with("cfa_training_start", {"formation.dateDebutFormation": training_start}) == expected


@pytest.mark.parametrize(
    ("end", "training_end", "changes", "blocked"),
    [
        ("2027-02-27", "2027-02-27", {"formation.dateDebutFormation": "2026-08-28"}, True),  # the day before 6 months
        ("2027-02-28", "2027-02-28", {"formation.dateDebutFormation": "2026-09-01"}, False),  # 6 months exactly
        ("2029-08-31", "2029-06-30", {}, False),  # 3 years
        ("2029-09-01", "2029-06-30", {}, True),
        ("2029-08-31", "2029-06-30", {"contrat.typeDerogation": 22}, False),
        ("2029-09-01", "2029-06-30", {"contrat.typeDerogation": 22}, True),  # a convention stays within 3 years
        ("2030-08-31", "2030-06-30", {"apprenti.handicap": True}, False),  # 4 years for an RQTH
        ("2030-09-01", "2030-06-30", {"apprenti.handicap": True}, True),
        ("2030-08-31", "2030-06-30", {}, True),
    ],
)
def test_contract_duration(end: str, training_end: str, changes: dict[str, Any], blocked: bool) -> None:
    # 1,700 h of training keeps even a 4-year contract above 25 % of its working time
    dates = {
        "contrat.dateFinContrat": end,
        "formation.dateFinFormation": training_end,
        "formation.dureeFormation": 1700,
    }
    expected = {("cerfa.contrat.dateFinContrat", "contract_duration")} if blocked else set()
    assert found({**dates, **changes}) == expected


@pytest.mark.parametrize(
    ("end", "training_end", "changes", "blocked"),
    [
        ("2029-08-31", "2029-06-30", {"contrat.typeDerogation": 50}, False),
        ("2029-09-01", "2029-06-30", {"contrat.typeDerogation": 50}, True),
        ("2030-08-31", "2030-06-30", {"contrat.typeContratApp": 33}, False),  # 3 years + 1 after a failed exam
        ("2030-09-01", "2030-06-30", {"contrat.typeContratApp": 33}, True),
        ("2031-02-28", "2030-12-31", {"contrat.typeContratApp": 33, "apprenti.handicap": True}, False),  # 54 months
        ("2031-03-01", "2030-12-31", {"contrat.typeContratApp": 33, "apprenti.handicap": True}, True),
    ],
)
def test_longer_contracts(end: str, training_end: str, changes: dict[str, Any], blocked: bool) -> None:
    amendment = {"contrat.numeroContratPrecedent": "069202607000123", "contrat.dateEffetAvenant": "2028-07-01"}
    dates = {"contrat.dateFinContrat": end, "formation.dateFinFormation": training_end, **amendment}
    expected = ["cerfa.contrat.dateFinContrat"] if blocked else []
    assert fields_with("contract_duration", {**dates, **changes}) == expected


def test_a_contract_ending_before_it_starts_is_reported_once() -> None:
    changes = {"contrat.dateFinContrat": "2026-08-31"}
    assert fields_with("contract_dates_order", changes) == ["cerfa.contrat.dateFinContrat"]
    assert fields_with("contract_duration", changes) == []


def test_training_ends_after_it_starts() -> None:
    assert fields_with("training_dates_order", {"formation.dateFinFormation": "2026-09-07"}) == [
        "cerfa.formation.dateFinFormation"
    ]
    assert fields_with("training_dates_order", {"formation.dateFinFormation": "2026-09-08"}) == []


@pytest.mark.parametrize(
    ("training_end", "blocked"),
    [("2028-05-30", True), ("2028-05-31", False), ("2028-08-31", False), ("2028-09-01", True)],
)
def test_the_contract_ends_within_3_months_after_the_training(training_end: str, blocked: bool) -> None:
    expected = {("cerfa.contrat.dateFinContrat", "contract_end_vs_training_end")} if blocked else set()
    assert found({"formation.dateFinFormation": training_end}) == expected


@pytest.mark.parametrize(
    ("effect", "blocked"),
    [("2026-08-31", True), ("2026-09-01", False), ("2028-08-31", False), ("2028-09-01", True)],
)
def test_an_amendment_takes_effect_during_the_contract(effect: str, blocked: bool) -> None:
    amendment = {
        "contrat.typeContratApp": 33,
        "contrat.numeroContratPrecedent": "069202607000123",
        "contrat.dateEffetAvenant": effect,
    }
    expected = {("cerfa.contrat.dateEffetAvenant", "amendment_effect_date")} if blocked else set()
    assert found(amendment) == expected


# --- working and training time --------------------------------------------------------------------


def test_weekly_hours_up_to_40() -> None:
    assert found({"contrat.dureeTravailHebdoHeures": 40, "contrat.dureeTravailHebdoMinutes": 0}) == set()
    assert found({"contrat.dureeTravailHebdoHeures": 40, "contrat.dureeTravailHebdoMinutes": 1}) == {
        ("cerfa.contrat.dureeTravailHebdoHeures", "weekly_hours")
    }


def test_training_is_at_least_25_percent_of_the_working_time() -> None:
    # 731 days (2026-09-01 to 2028-08-31) of 1,607 h a year: 3,218.4 h of work, 25 % = 804.6 h
    assert found({"formation.dureeFormation": 805}) == set()
    assert found({"formation.dureeFormation": 804}) == {("cerfa.formation.dureeFormation", "training_hours")}
    assert "the minimum is 25 % (804.6 h)" in message_of("training_hours", {"formation.dureeFormation": 804})


# --- pay ------------------------------------------------------------------------------------------


def test_a_period_pays_at_least_the_minimum_rate() -> None:
    assert found({"contrat.remunerationsAnnuelles.0.taux": "43"}) == set()
    assert found({"contrat.remunerationsAnnuelles.0.taux": "42.99"}) == {
        ("cerfa.contrat.remunerationsAnnuelles.0.taux", "remuneration_below_minimum")
    }


def test_a_period_is_judged_at_the_highest_bracket_it_reaches() -> None:
    # the apprentice turns 21 on 2028-03-14: the 21-25 bracket applies from 2028-04-01
    assert found({"contrat.remunerationsAnnuelles.1.dateFin": "2028-03-31"}) == set()
    longer = {
        "contrat.remunerationsAnnuelles.1.dateFin": "2028-04-01",
        "contrat.remunerationsAnnuelles.1.typeSalaire": "SMC",
        "contrat.remunerationsAnnuelles.2.dateDebut": "2028-04-02",
    }
    assert found(longer) == {("cerfa.contrat.remunerationsAnnuelles.1.taux", "remuneration_below_minimum")}
    assert found({"contrat.remunerationsAnnuelles.2.taux": "60.99"}) == {
        ("cerfa.contrat.remunerationsAnnuelles.2.taux", "remuneration_below_minimum")
    }


def test_a_period_reaching_the_second_contract_year_needs_its_rate() -> None:
    spill = {
        "contrat.remunerationsAnnuelles.0.dateFin": "2027-09-01",
        "contrat.remunerationsAnnuelles.1.dateDebut": "2027-09-02",
    }
    assert found(spill) == {("cerfa.contrat.remunerationsAnnuelles.0.taux", "remuneration_below_minimum")}
    assert "the legal minimum is 51 % (age bracket of 20, contract year 2)" in message_of(
        "remuneration_below_minimum", spill
    )


def test_the_salary_at_hiring_is_at_least_the_minimum() -> None:
    # 43 % of 1,823.03 € = 783.9029 €, rounded up to 783.91 €
    assert found({"contrat.salaireEmbauche": "783.91"}) == set()
    assert found({"contrat.salaireEmbauche": "783.90"}) == {
        ("cerfa.contrat.salaireEmbauche", "remuneration_below_minimum")
    }
    message = message_of("remuneration_below_minimum", {"contrat.salaireEmbauche": "783.90"})
    assert "the legal minimum is 783.91 € (43 % of the SMIC of 1823.03 € in force on 2026-09-01)" in message


def test_the_minimum_salary_is_prorated_below_35_hours() -> None:
    # 783.9029 × 24 / 35 = 537.533… → 537.54
    assert found({"contrat.dureeTravailHebdoHeures": 24, "contrat.salaireEmbauche": "537.54"}) == set()
    assert found({"contrat.dureeTravailHebdoHeures": 24, "contrat.salaireEmbauche": "537.53"}) == {
        ("cerfa.contrat.salaireEmbauche", "remuneration_below_minimum")
    }


def test_from_21_the_smc_is_the_base_when_higher_than_the_smic() -> None:
    # 22 at the start: 53 % in year 1, 61 % in year 2, of the SMC when it is higher than the SMIC
    older: dict[str, Any] = {
        **born("2004-03-14"),
        "contrat.smc": "2000.00",
        "contrat.remunerationsAnnuelles.0.typeSalaire": "SMC",
        "contrat.remunerationsAnnuelles.1.typeSalaire": "SMC",
        "contrat.remunerationsAnnuelles.0.taux": "53",
        "contrat.remunerationsAnnuelles.1.taux": "61",
    }
    assert found({**older, "contrat.salaireEmbauche": "1060.00"}) == set()
    assert found({**older, "contrat.salaireEmbauche": "1059.99"}) == {
        ("cerfa.contrat.salaireEmbauche", "remuneration_below_minimum")
    }
    lower_smc = {**older, "contrat.smc": "1800.00"}
    assert found({**lower_smc, "contrat.salaireEmbauche": "966.21"}) == set()
    assert found({**lower_smc, "contrat.salaireEmbauche": "966.20"}) == {
        ("cerfa.contrat.salaireEmbauche", "remuneration_below_minimum")
    }


# --- the arithmetic underneath --------------------------------------------------------------------


def test_the_smic_in_force() -> None:
    assert smic_on(date(2019, 12, 31)) is None
    assert smic_on(date(2020, 1, 1)) == Decimal("1539.42")
    assert smic_on(date(2025, 12, 31)) == Decimal("1801.80")
    assert smic_on(date(2026, 1, 1)) == Decimal("1823.03")


def test_the_bracket_changes_on_the_first_of_the_month_after_the_birthday() -> None:
    birth = date(2007, 3, 14)
    assert bracket_age(birth, date(2028, 3, 31)) == 20
    assert bracket_age(birth, date(2028, 4, 1)) == 21
    assert bracket_age(date(2007, 12, 1), date(2025, 12, 31)) == 17
    assert bracket_age(date(2007, 12, 1), date(2026, 1, 1)) == 18


def test_contract_years_run_from_the_start_anniversary() -> None:
    start = date(2026, 9, 1)
    assert contract_year(start, date(2027, 8, 31)) == 1
    assert contract_year(start, date(2027, 9, 1)) == 2
    assert contract_year(start, date(2030, 9, 1)) == 5


def test_month_arithmetic_clamps_to_the_month_end() -> None:
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 9, 1), -3) == date(2026, 6, 1)


def test_pay_is_rounded_up_to_the_cent() -> None:
    assert minimum_monthly_pay(Decimal(43), Decimal("1823.03"), None) == Decimal("783.91")
    assert minimum_monthly_pay(Decimal(43), Decimal("1823.03"), 40 * 60) == Decimal("783.91")
    assert minimum_monthly_pay(Decimal(100), Decimal("1823.03"), 35 * 60) == Decimal("1823.03")


@pytest.mark.parametrize(
    ("birth", "day", "rate"),
    [
        ("2010-09-01", "2026-09-01", 27),  # 16, year 1
        ("2010-09-01", "2027-09-01", 39),  # 17, year 2
        ("2008-08-15", "2026-09-01", 43),  # 18 since 1 September, year 1
        ("2007-03-14", "2028-08-31", 61),  # 21, year 2
        ("2004-03-14", "2029-09-01", 78),  # 25, year 4 counts as year 3
        ("2000-01-01", "2026-09-01", 100),  # 26
    ],
)
def test_the_legal_grid(birth: str, day: str, rate: int) -> None:
    assert minimum_rate_on(date.fromisoformat(birth), date(2026, 9, 1), date.fromisoformat(day)) == rate
