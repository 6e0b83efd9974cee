"""The funding regime of a contract, fixed by its conclusion date (Code du travail R6332-25)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from domain.funding.errors import FundingTermsInvalid

FIRST_DAY_2020 = date(2020, 1, 1)
FIRST_DAY_2021 = date(2021, 1, 1)
FIRST_DAY_2025 = date(2025, 7, 1)  # décret 2025-585: contracts concluded from 1 July 2025


class Regime(StrEnum):
    FROM_2020 = "2020"  # 50/25/25, prorata by started months
    FROM_2021 = "2021"  # 40/30/30, prorata by started months
    FROM_2025 = "2025"  # 40/30/20/10, prorata by days, employer participation, distance minoration


def regime_of(concluded_on: date) -> Regime:
    if concluded_on < FIRST_DAY_2020:
        raise FundingTermsInvalid(
            "concluded_on",
            "concluded_before_2020",
            "contracts concluded before 1 January 2020 are not funded by an NPEC",
        )
    if concluded_on < FIRST_DAY_2021:
        return Regime.FROM_2020
    if concluded_on < FIRST_DAY_2025:
        return Regime.FROM_2021
    return Regime.FROM_2025
