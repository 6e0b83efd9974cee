"""The training's own length and where its dates fall against the contract's (dateFormation.control.ts,
ContratDates.control.ts). The complete example: contract 2026-09-01 to 2028-08-31, concluded 2026-07-10,
practical training from 2026-09-01, training at the CFA 2026-09-07 to 2028-06-30, 1,350 h."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.domain.cerfa_support import fields_with, found


@pytest.mark.parametrize(
    ("start", "end", "blocked"),
    [
        ("2026-09-07", "2027-03-05", True),  # a day short of 6 months
        ("2026-09-07", "2027-03-06", False),  # 6 months
        ("2026-09-01", "2030-08-31", False),  # 4 years
        ("2026-09-01", "2030-09-01", True),
    ],
)
def test_a_training_cycle_lasts_from_6_months_to_4_years(start: str, end: str, blocked: bool) -> None:
    changes = {"formation.dateDebutFormation": start, "formation.dateFinFormation": end}
    assert fields_with("training_duration", changes) == (["cerfa.formation.dateFinFormation"] if blocked else [])


def test_a_training_ending_before_it_starts_is_reported_once() -> None:
    changes = {"formation.dateFinFormation": "2026-09-06"}
    assert fields_with("training_dates_order", changes) == ["cerfa.formation.dateFinFormation"]
    assert fields_with("training_duration", changes) == []


@pytest.mark.parametrize(("training_start", "blocked"), [("2026-08-31", True), ("2026-09-01", False)])
def test_cfa_training_starts_at_most_3_months_before_the_practical_training(training_start: str, blocked: bool) -> None:
    changes = {"contrat.dateDebutFormationPratique": "2026-12-01", "formation.dateDebutFormation": training_start}
    expected = {("cerfa.formation.dateDebutFormation", "cfa_training_vs_practical_start")} if blocked else set()
    assert found(changes) == expected


@pytest.mark.parametrize(("training_start", "blocked"), [("2026-07-09", True), ("2026-07-10", False)])
def test_a_new_contracts_training_starts_once_it_is_concluded(training_start: str, blocked: bool) -> None:
    changes = {"formation.dateDebutFormation": training_start, "contrat.dateDebutFormationPratique": "2026-09-01"}
    expected = ["cerfa.formation.dateDebutFormation"] if blocked else []
    assert fields_with("cfa_training_before_conclusion", changes) == expected


@pytest.mark.parametrize("situation", [7, 8])
def test_an_apprentice_already_in_training_without_a_contract_started_before(situation: int) -> None:
    changes = {"formation.dateDebutFormation": "2026-06-02", "apprenti.situationAvantContrat": situation}
    assert fields_with("cfa_training_before_conclusion", changes) == []


def test_an_amendment_is_concluded_during_the_training() -> None:
    amendment: dict[str, Any] = {
        "contrat.typeContratApp": 35,
        "contrat.numeroContratPrecedent": "069202607000123",
        "contrat.dateEffetAvenant": "2027-01-04",
        "contrat.dateConclusion": "2026-12-15",
    }
    assert fields_with("cfa_training_before_conclusion", amendment) == []


@pytest.mark.parametrize(("training_end", "blocked"), [("2026-08-31", True), ("2026-09-01", False)])
def test_training_does_not_end_before_the_contract_starts(training_end: str, blocked: bool) -> None:
    changes = {"formation.dateDebutFormation": "2026-06-01", "formation.dateFinFormation": training_end}
    expected = ["cerfa.formation.dateFinFormation"] if blocked else []
    assert fields_with("training_end_before_contract_start", changes) == expected


@pytest.mark.parametrize("exemption", ["apprenti.handicap", "apprenti.inscriptionSportifDeHautNiveau"])
def test_the_25_percent_rule_is_not_judged_for_an_rqth_or_an_athlete(exemption: str) -> None:
    assert fields_with("training_hours", {"formation.dureeFormation": 804}) == ["cerfa.formation.dureeFormation"]
    assert fields_with("training_hours", {"formation.dureeFormation": 804, exemption: True}) == []


@pytest.mark.parametrize(("effect", "blocked"), [("2026-08-31", True), ("2026-09-01", False)])
def test_an_effect_date_is_within_the_contract_whatever_the_type(effect: str, blocked: bool) -> None:
    # ContratDates.control.ts compares the dates whenever an effect date is given, amendment 38 included
    changes = {
        "contrat.typeContratApp": 38,
        "contrat.numeroContratPrecedent": "069202607000123",
        "contrat.dateEffetAvenant": effect,
    }
    assert found(changes) == ({("cerfa.contrat.dateEffetAvenant", "amendment_effect_date")} if blocked else set())
