"""Pay where the SMIC differs (Mayotte), the SMC as the base from 21, benefits in kind (buildRemuneration.ts,
avantagesNature.control.ts). The complete example: an employer in Lyon, an apprentice of 19 at the start (43 %
in year 1), 21 on 2028-03-14, a Syntec SMC of 1,845 € above the 2026 SMIC of 1,823.03 €."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.cerfa.remuneration import SMIC_MENSUEL_MAYOTTE, smic_on
from tests.unit.domain.cerfa_support import fields_with, found, message_of

MAMOUDZOU: dict[str, Any] = {
    "employeur.adresse": {"numero": 5, "voie": "rue du Commerce", "codePostal": "97600", "commune": "Mamoudzou"}
}


def test_mayotte_has_its_own_smic() -> None:
    assert smic_on(date(2019, 12, 31), mayotte=True) is None
    assert smic_on(date(2020, 1, 1), mayotte=True) == Decimal("1161.77")
    assert smic_on(date(2025, 12, 31), mayotte=True) == Decimal("1361.97")
    assert smic_on(date(2026, 1, 1), mayotte=True) == Decimal("1415.05")
    assert smic_on(date(2026, 1, 1)) == Decimal("1823.03")


def test_mayottes_smic_rises_at_each_revaluation() -> None:
    days = [since for since, _ in SMIC_MENSUEL_MAYOTTE]
    amounts = [amount for _, amount in SMIC_MENSUEL_MAYOTTE]
    assert days == sorted(days)
    assert amounts == sorted(amounts)


def test_in_mayotte_the_salary_at_hiring_is_a_share_of_mayottes_smic() -> None:
    # 43 % of 1,415.05 € = 608.4715 €, rounded up to 608.48 €
    assert found({**MAMOUDZOU, "contrat.salaireEmbauche": "608.48"}) == set()
    assert found({**MAMOUDZOU, "contrat.salaireEmbauche": "608.47"}) == {
        ("cerfa.contrat.salaireEmbauche", "remuneration_below_minimum")
    }
    message = message_of("remuneration_below_minimum", {**MAMOUDZOU, "contrat.salaireEmbauche": "608.47"})
    assert "(43 % of the SMIC of 1415.05 € in force on 2026-09-01)" in message


def test_outside_mayotte_the_national_smic_applies() -> None:
    assert fields_with("remuneration_below_minimum", {"contrat.salaireEmbauche": "608.48"}) == [
        "cerfa.contrat.salaireEmbauche"
    ]


def test_from_21_a_period_is_a_share_of_the_smc_when_higher_than_the_smic() -> None:
    on_smic = {"contrat.remunerationsAnnuelles.2.typeSalaire": "SMIC"}
    assert found(on_smic) == {("cerfa.contrat.remunerationsAnnuelles.2.typeSalaire", "smc_base_required")}
    assert found({**on_smic, "contrat.smc": "1823.03"}) == set()  # not higher than the SMIC


def test_a_period_ending_before_the_21st_birthday_month_stays_on_the_smic() -> None:
    # the 21-25 bracket starts on 2028-04-01; period 2.1 ends on 2028-03-31
    assert fields_with("smc_base_required", {"contrat.remunerationsAnnuelles.1.typeSalaire": "SMIC"}) == []
    longer = {"contrat.remunerationsAnnuelles.1.dateFin": "2028-04-01"}
    assert fields_with("smc_base_required", longer) == ["cerfa.contrat.remunerationsAnnuelles.1.typeSalaire"]


def test_mayottes_smic_decides_whether_the_smc_is_higher() -> None:
    lower_smc = {"contrat.smc": "1500.00", "contrat.remunerationsAnnuelles.2.typeSalaire": "SMIC"}
    assert fields_with("smc_base_required", lower_smc) == []
    assert fields_with("smc_base_required", {**MAMOUDZOU, **lower_smc}) == [
        "cerfa.contrat.remunerationsAnnuelles.2.typeSalaire"
    ]


@pytest.mark.parametrize(
    ("detail", "value"),
    [("avantageNourriture", "4.25"), ("avantageLogement", "120.00"), ("autreAvantageEnNature", True)],
)
def test_benefits_in_kind_are_given_only_when_stated(detail: str, value: Any) -> None:
    assert found({f"contrat.{detail}": value}) == {("cerfa.contrat.avantageNature", "benefits_in_kind_inconsistent")}
    assert found({f"contrat.{detail}": value, "contrat.avantageNature": True}) == set()


def test_no_other_benefit_is_no_benefit() -> None:
    assert found({"contrat.autreAvantageEnNature": False}) == set()
