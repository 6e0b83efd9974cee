"""Funding schedules worked out by hand; docs/funding.md walks through the same examples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import InvalidValue
from domain.funding import (
    Condition,
    FundingSchedule,
    FundingTerms,
    FundingTermsInvalid,
    Regime,
    contract_years,
    funding_schedule,
    regime_of,
)

ADV, MID, BAL, PROOF = Condition.ADVANCE, Condition.INTERIM, Condition.BALANCE, Condition.PROOF_OF_SERVICE

YearRow = tuple[date, date, int, int, int, str]
InstalmentRow = tuple[str, int, str, str, date, Condition]


def years_of(schedule: FundingSchedule) -> list[YearRow]:
    """(start, end, days, year_days, months, amount) per contract year."""
    return [(y.start, y.end, y.days, y.year_days, y.months, str(y.amount)) for y in schedule.years]


def instalments_of(schedule: FundingSchedule) -> list[InstalmentRow]:
    """(codification, year, share, amount, opens_on, condition) per instalment; amounts as strings, so 2 places."""
    return [
        (i.codification, i.year, str(i.share), str(i.amount), i.opens_on, i.condition) for i in schedule.instalments
    ]


def schedule(concluded: date, start: date, end: date, npec: str, **options: object) -> FundingSchedule:
    return funding_schedule(FundingTerms(concluded, start, end, Decimal(npec), **options))  # type: ignore[arg-type]


# -- regimes -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("concluded", "regime"),
    [
        (date(2020, 1, 1), Regime.FROM_2020),
        (date(2020, 12, 31), Regime.FROM_2020),
        (date(2021, 1, 1), Regime.FROM_2021),
        (date(2025, 6, 30), Regime.FROM_2021),
        (date(2025, 7, 1), Regime.FROM_2025),
        (date(2030, 1, 1), Regime.FROM_2025),
    ],
)
def test_the_conclusion_date_picks_the_regime(concluded: date, regime: Regime) -> None:
    assert regime_of(concluded) is regime


def test_regimes_read_as_their_year() -> None:
    assert [str(regime) for regime in Regime] == ["2020", "2021", "2025"]


# -- regime 2020: 50/25/25 -----------------------------------------------------------------------------------------


def test_2020_two_full_years() -> None:
    result = schedule(date(2020, 8, 15), date(2020, 9, 1), date(2022, 8, 31), "6000")
    assert result.regime is Regime.FROM_2020
    assert years_of(result) == [
        (date(2020, 9, 1), date(2021, 8, 31), 365, 365, 12, "6000.00"),
        (date(2021, 9, 1), date(2022, 8, 31), 365, 365, 12, "6000.00"),
    ]
    assert instalments_of(result) == [
        ("E1", 1, "0.50", "3000.00", date(2020, 9, 1), ADV),  # 6000 × 0.50, at the year's start
        ("E2", 1, "0.25", "1500.00", date(2021, 3, 1), MID),  # 6000 × 0.25, start + 6 months (month 7)
        ("E3", 1, "0.25", "1500.00", date(2021, 6, 1), BAL),  # 6000 − 3000 − 1500, start + 9 months (month 10)
        ("E4", 2, "0.50", "3000.00", date(2021, 9, 1), ADV),
        ("E5", 2, "0.25", "1500.00", date(2022, 3, 1), MID),
        ("E6", 2, "0.25", "1500.00", date(2022, 6, 1), BAL),
    ]
    assert result.total == Decimal("12000.00")  # 2 × 6000
    assert result.instalments[0].pay_by == date(2020, 10, 1)  # 1 Sep + 30 days (September has 30)


def test_2020_shorter_than_a_year() -> None:
    # 2 Mar + 5 months = 2 Aug ≤ 31 Aug < 2 Sep = + 6 months: 6 started months; 5000 × 6 / 12 = 2500
    result = schedule(date(2020, 3, 2), date(2020, 3, 2), date(2020, 8, 31), "5000")
    assert years_of(result) == [(date(2020, 3, 2), date(2020, 8, 31), 183, 365, 6, "2500.00")]
    assert instalments_of(result) == [
        ("E1", 1, "0.50", "1250.00", date(2020, 3, 2), ADV),  # 2500 × 0.50, at the start
        ("E2", 1, "0.50", "1250.00", date(2020, 8, 31), BAL),  # 2500 − 1250, at the end
    ]


# -- regime 2021: 40/30/30 -----------------------------------------------------------------------------------------


def test_2021_two_full_years() -> None:
    result = schedule(date(2023, 8, 20), date(2023, 9, 1), date(2025, 8, 31), "7000")
    assert result.regime is Regime.FROM_2021
    assert years_of(result) == [
        (date(2023, 9, 1), date(2024, 8, 31), 366, 366, 12, "7000.00"),  # holds 29 Feb 2024
        (date(2024, 9, 1), date(2025, 8, 31), 365, 365, 12, "7000.00"),
    ]
    assert instalments_of(result) == [
        ("E1", 1, "0.40", "2800.00", date(2023, 9, 1), ADV),  # 7000 × 0.40
        ("E2", 1, "0.30", "2100.00", date(2024, 3, 1), MID),  # 7000 × 0.30
        ("E3", 1, "0.30", "2100.00", date(2024, 6, 1), BAL),  # 7000 − 2800 − 2100
        ("E4", 2, "0.40", "2800.00", date(2024, 9, 1), ADV),
        ("E5", 2, "0.30", "2100.00", date(2025, 3, 1), MID),
        ("E6", 2, "0.30", "2100.00", date(2025, 6, 1), BAL),
    ]
    assert result.total == Decimal("14000.00")
    assert [i.pay_by for i in result.instalments[:3]] == [date(2023, 10, 1), date(2024, 3, 31), date(2024, 7, 1)]
    assert all(i.lost_after is None and i.deduction == 0 for i in result.instalments)


def test_2021_three_years_the_last_one_prorated_by_started_months() -> None:
    result = schedule(date(2022, 9, 10), date(2022, 9, 15), date(2025, 6, 30), "8250")
    assert years_of(result) == [
        (date(2022, 9, 15), date(2023, 9, 14), 365, 365, 12, "8250.00"),
        (date(2023, 9, 15), date(2024, 9, 14), 366, 366, 12, "8250.00"),
        # 16 + 31 + 30 + 31 + 31 + 28 + 31 + 30 + 31 + 30 = 289 days; 15 Sep + 9 months = 15 Jun ≤ 30 Jun < 15 Jul:
        # 10 started months; 8250 × 10 / 12 = 6875
        (date(2024, 9, 15), date(2025, 6, 30), 289, 365, 10, "6875.00"),
    ]
    assert instalments_of(result) == [
        ("E1", 1, "0.40", "3300.00", date(2022, 9, 15), ADV),  # 8250 × 0.40
        ("E2", 1, "0.30", "2475.00", date(2023, 3, 15), MID),  # 8250 × 0.30
        ("E3", 1, "0.30", "2475.00", date(2023, 6, 15), BAL),  # 8250 − 3300 − 2475
        ("E4", 2, "0.40", "3300.00", date(2023, 9, 15), ADV),
        ("E5", 2, "0.30", "2475.00", date(2024, 3, 15), MID),
        ("E6", 2, "0.30", "2475.00", date(2024, 6, 15), BAL),
        ("E7", 3, "0.50", "3437.50", date(2024, 9, 15), ADV),  # 6875 × 0.50, at the period's start
        ("E8", 3, "0.50", "3437.50", date(2025, 6, 30), BAL),  # 6875 − 3437.50, at the period's end
    ]
    assert result.total == Decimal("23375.00")  # 8250 + 8250 + 6875
    assert result.instalments[-1].pay_by == date(2025, 7, 30)  # 30 Jun + 30 days


def test_2021_shorter_than_a_year() -> None:
    # 24 + 29 + 31 + 30 + 31 + 30 + 31 = 206 days; 8 Jan + 6 months = 8 Jul ≤ 31 Jul < 8 Aug: 7 started months
    result = schedule(date(2024, 1, 5), date(2024, 1, 8), date(2024, 7, 31), "9000")
    assert years_of(result) == [(date(2024, 1, 8), date(2024, 7, 31), 206, 366, 7, "5250.00")]  # 9000 × 7 / 12
    assert instalments_of(result) == [
        ("E1", 1, "0.50", "2625.00", date(2024, 1, 8), ADV),  # 5250 × 0.50
        ("E2", 1, "0.50", "2625.00", date(2024, 7, 31), BAL),  # 5250 − 2625
    ]
    assert result.instalments[1].pay_by == date(2024, 8, 30)


def test_a_last_year_of_twelve_started_months_is_still_paid_as_a_partial_period() -> None:
    # year 2: 1 Sep 2024 .. 20 Aug 2025, 30+31+30+31+31+28+31+30+31+30+31+20 = 354 days; 1 Sep + 11 months = 1 Aug
    # ≤ 20 Aug: 12 started months, 6000 × 12 / 12 = 6000, but in two halves since the year is cut short
    result = schedule(date(2023, 8, 1), date(2023, 9, 1), date(2025, 8, 20), "6000")
    assert years_of(result)[1] == (date(2024, 9, 1), date(2025, 8, 20), 354, 365, 12, "6000.00")
    assert instalments_of(result)[3:] == [
        ("E4", 2, "0.50", "3000.00", date(2024, 9, 1), ADV),
        ("E5", 2, "0.50", "3000.00", date(2025, 8, 20), BAL),
    ]


def test_a_contract_starting_on_29_february() -> None:
    result = schedule(date(2024, 2, 20), date(2024, 2, 29), date(2026, 8, 31), "6600")
    assert years_of(result) == [
        (date(2024, 2, 29), date(2025, 2, 28), 366, 366, 12, "6600.00"),  # next anniversary: 1 Mar 2025
        (date(2025, 3, 1), date(2026, 2, 28), 365, 365, 12, "6600.00"),
        # 31 + 30 + 31 + 30 + 31 + 31 = 184 days; 1 Mar + 5 months = 1 Aug ≤ 31 Aug: 6 months, 6600 × 6 / 12 = 3300
        (date(2026, 3, 1), date(2026, 8, 31), 184, 365, 6, "3300.00"),
    ]
    assert instalments_of(result) == [
        ("E1", 1, "0.40", "2640.00", date(2024, 2, 29), ADV),  # 6600 × 0.40
        ("E2", 1, "0.30", "1980.00", date(2024, 8, 29), MID),  # 6600 × 0.30
        ("E3", 1, "0.30", "1980.00", date(2024, 11, 29), BAL),
        ("E4", 2, "0.40", "2640.00", date(2025, 3, 1), ADV),
        ("E5", 2, "0.30", "1980.00", date(2025, 9, 1), MID),
        ("E6", 2, "0.30", "1980.00", date(2025, 12, 1), BAL),
        ("E7", 3, "0.50", "1650.00", date(2026, 3, 1), ADV),  # 3300 × 0.50
        ("E8", 3, "0.50", "1650.00", date(2026, 8, 31), BAL),
    ]
    assert result.total == Decimal("16500.00")  # 6600 + 6600 + 3300


# -- regime 2025: 40/30/20/10, prorata by days ---------------------------------------------------------------------


def test_2025_three_years_the_last_one_prorated_by_days() -> None:
    result = schedule(date(2025, 9, 20), date(2025, 10, 1), date(2028, 6, 30), "7320")
    assert result.regime is Regime.FROM_2025
    assert years_of(result) == [
        (date(2025, 10, 1), date(2026, 9, 30), 365, 365, 12, "7320.00"),
        (date(2026, 10, 1), date(2027, 9, 30), 365, 365, 12, "7320.00"),
        # 31+30+31+31+29+31+30+31+30 = 274 days of a year (1 Oct 2027 .. 30 Sep 2028) of 366; 7320 × 274 / 366 = 5480
        (date(2027, 10, 1), date(2028, 6, 30), 274, 366, 9, "5480.00"),
    ]
    assert instalments_of(result) == [
        ("E1", 1, "0.40", "2928.00", date(2025, 10, 1), ADV),  # 7320 × 0.40
        ("E2", 1, "0.30", "2196.00", date(2026, 4, 1), MID),  # 7320 × 0.30, month 7
        ("E3", 1, "0.20", "1464.00", date(2026, 7, 1), MID),  # 7320 × 0.20, month 10
        ("E4", 1, "0.10", "732.00", date(2026, 10, 1), PROOF),  # 7320 − 2928 − 2196 − 1464; 30 Sep + 1 day
        ("E5", 2, "0.40", "2928.00", date(2026, 10, 1), ADV),
        ("E6", 2, "0.30", "2196.00", date(2027, 4, 1), MID),
        ("E7", 2, "0.20", "1464.00", date(2027, 7, 1), MID),
        ("E8", 2, "0.10", "732.00", date(2027, 10, 1), PROOF),
        ("E9", 3, "0.40", "2192.00", date(2027, 10, 1), ADV),  # 5480 × 0.40
        ("E10", 3, "0.30", "1644.00", date(2028, 4, 1), MID),  # 5480 × 0.30
        ("E11", 3, "0.20", "1096.00", date(2028, 6, 30), MID),  # 5480 × 0.20; 1 Jul 2028 is past the end
        ("E12", 3, "0.10", "548.00", date(2028, 6, 30), PROOF),  # 5480 − 2192 − 1644 − 1096; at the contract's end
    ]
    assert result.total == Decimal("20120.00")  # 7320 + 7320 + 5480
    lost = [i.lost_after for i in result.instalments]
    assert lost == [None, None, None, date(2028, 10, 30)] * 3  # 30 Jun 2028 + 4 months, for every 10 %


def test_2025_shorter_than_a_year() -> None:
    # 30 + 31 + 30 + 31 + 31 + 28 = 181 days of 365; 7300 × 181 / 365 = 20 × 181 = 3620
    result = schedule(date(2025, 9, 1), date(2025, 9, 1), date(2026, 2, 28), "7300")
    assert years_of(result) == [(date(2025, 9, 1), date(2026, 2, 28), 181, 365, 6, "3620.00")]
    assert instalments_of(result) == [
        ("E1", 1, "0.40", "1448.00", date(2025, 9, 1), ADV),  # 3620 × 0.40
        ("E2", 1, "0.30", "1086.00", date(2026, 2, 28), MID),  # 3620 × 0.30; 1 Mar 2026 is past the end
        ("E3", 1, "0.20", "724.00", date(2026, 2, 28), MID),  # 3620 × 0.20
        ("E4", 1, "0.10", "362.00", date(2026, 2, 28), PROOF),  # 3620 − 1448 − 1086 − 724
    ]
    assert result.instalments[3].lost_after == date(2026, 6, 28)  # 28 Feb + 4 months
    assert result.instalments[3].pay_by == date(2026, 3, 30)  # 28 Feb + 30 days


def test_2025_a_year_starting_on_29_february() -> None:
    # 1 + 31 + 30 + 31 + 30 + 31 + 31 = 185 days of a year (29 Feb 2028 .. 28 Feb 2029) of 366; 7320 × 185 / 366 = 3700
    result = schedule(date(2027, 12, 1), date(2028, 2, 29), date(2028, 8, 31), "7320")
    assert years_of(result) == [(date(2028, 2, 29), date(2028, 8, 31), 185, 366, 7, "3700.00")]
    assert instalments_of(result) == [
        ("E1", 1, "0.40", "1480.00", date(2028, 2, 29), ADV),  # 3700 × 0.40
        ("E2", 1, "0.30", "1110.00", date(2028, 8, 29), MID),  # 3700 × 0.30; 29 Feb + 6 months
        ("E3", 1, "0.20", "740.00", date(2028, 8, 31), MID),  # 3700 × 0.20; 29 Nov is past the end
        ("E4", 1, "0.10", "370.00", date(2028, 8, 31), PROOF),  # 3700 − 1480 − 1110 − 740
    ]
    assert result.instalments[3].lost_after == date(2028, 12, 31)


def test_a_one_day_contract() -> None:
    result = schedule(date(2025, 9, 1), date(2025, 9, 1), date(2025, 9, 1), "7300")  # 7300 × 1 / 365 = 20
    assert years_of(result) == [(date(2025, 9, 1), date(2025, 9, 1), 1, 365, 1, "20.00")]
    assert [str(i.amount) for i in result.instalments] == ["8.00", "6.00", "4.00", "2.00"]  # 20 × 0.4/0.3/0.2/rest
    assert {i.opens_on for i in result.instalments} == {date(2025, 9, 1)}


# -- the 2025-07-01 boundary ---------------------------------------------------------------------------------------


def test_concluded_on_30_june_2025_a_short_contract_is_prorated_by_started_months() -> None:
    # 1 Jul 2025 + 8 months = 1 Mar 2026 ≤ 15 Mar < 1 Apr: 9 started months; 7300 × 9 / 12 = 5475
    result = schedule(date(2025, 6, 30), date(2025, 7, 1), date(2026, 3, 15), "7300")
    assert result.regime is Regime.FROM_2021
    assert years_of(result) == [(date(2025, 7, 1), date(2026, 3, 15), 258, 365, 9, "5475.00")]
    assert instalments_of(result) == [
        ("E1", 1, "0.50", "2737.50", date(2025, 7, 1), ADV),  # 5475 × 0.50
        ("E2", 1, "0.50", "2737.50", date(2026, 3, 15), BAL),
    ]


def test_concluded_on_1_july_2025_the_same_contract_is_prorated_by_days() -> None:
    # 31+31+30+31+30+31+31+28+15 = 258 days of 365; 7300 × 258 / 365 = 20 × 258 = 5160
    result = schedule(date(2025, 7, 1), date(2025, 7, 1), date(2026, 3, 15), "7300")
    assert result.regime is Regime.FROM_2025
    assert years_of(result) == [(date(2025, 7, 1), date(2026, 3, 15), 258, 365, 9, "5160.00")]
    assert instalments_of(result) == [
        ("E1", 1, "0.40", "2064.00", date(2025, 7, 1), ADV),  # 5160 × 0.40
        ("E2", 1, "0.30", "1548.00", date(2026, 1, 1), MID),  # 5160 × 0.30
        ("E3", 1, "0.20", "1032.00", date(2026, 3, 15), MID),  # 5160 × 0.20; 1 Apr is past the end
        ("E4", 1, "0.10", "516.00", date(2026, 3, 15), PROOF),  # 5160 − 2064 − 1548 − 1032
    ]
    assert result.instalments[3].lost_after == date(2026, 7, 15)


def test_the_2025_rules_apply_from_1_july_2025_only() -> None:
    options: dict[str, object] = {"level": 7, "distance_learning": True}
    before = schedule(date(2025, 6, 30), date(2025, 9, 1), date(2026, 8, 31), "6000", **options)
    after = schedule(date(2025, 7, 1), date(2025, 9, 1), date(2026, 8, 31), "6000", **options)
    assert before.npec_applied == Decimal("6000.00")  # no minoration
    assert instalments_of(before) == [
        ("E1", 1, "0.40", "2400.00", date(2025, 9, 1), ADV),
        ("E2", 1, "0.30", "1800.00", date(2026, 3, 1), MID),
        ("E3", 1, "0.30", "1800.00", date(2026, 6, 1), BAL),
    ]
    assert (before.deductions, before.payable) == (Decimal("0.00"), Decimal("6000.00"))  # no participation
    assert after.npec_applied == Decimal("4800.00")  # 6000 × 0.8 = 4800 ≥ 4000
    assert instalments_of(after) == [
        ("E1", 1, "0.40", "1920.00", date(2025, 9, 1), ADV),  # 4800 × 0.40
        ("E2", 1, "0.30", "1440.00", date(2026, 3, 1), MID),
        ("E3", 1, "0.20", "960.00", date(2026, 6, 1), MID),
        ("E4", 1, "0.10", "480.00", date(2026, 8, 31), PROOF),  # one year only: at the contract's end
    ]
    assert [i.deduction for i in after.instalments] == [Decimal("750.00"), 0, 0, 0]
    assert (after.total, after.deductions, after.payable) == (Decimal("4800.00"), Decimal(750), Decimal("4050.00"))


# -- employer participation (750 €, level ≥ 6) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "deducted"), [(None, "0.00"), (3, "0.00"), (5, "0.00"), (6, "750.00"), (7, "750.00"), (8, "750.00")]
)
def test_the_employer_participation_starts_at_level_6(level: int | None, deducted: str) -> None:
    result = schedule(date(2025, 8, 25), date(2025, 9, 1), date(2027, 8, 31), "9125", level=level)
    first = result.instalments[0]
    assert str(first.amount) == "3650.00"  # 9125 × 0.40
    assert str(first.deduction) == deducted
    assert first.payable == Decimal("3650.00") - Decimal(deducted)  # 2900.00 at level 6
    assert result.total == Decimal("18250.00")  # 2 × 9125
    assert result.payable == Decimal("18250.00") - Decimal(deducted)  # 17500.00 at level 6
    assert all(i.deduction == 0 for i in result.instalments[1:])


def test_what_the_first_advance_cannot_absorb_comes_off_the_next_instalments() -> None:
    # 4000 × 100 / 365 = 1095.890… → 1095.89; × 0.40 = 438.356 → 438.36; × 0.30 = 328.767 → 328.77;
    # × 0.20 = 219.178 → 219.18; 1095.89 − 438.36 − 328.77 − 219.18 = 109.58
    result = schedule(date(2025, 9, 1), date(2025, 9, 1), date(2025, 12, 9), "4000", level=6)
    assert [str(i.amount) for i in result.instalments] == ["438.36", "328.77", "219.18", "109.58"]
    # 750 − 438.36 = 311.64 off E2
    assert [str(i.deduction) for i in result.instalments] == ["438.36", "311.64", "0.00", "0.00"]
    assert [str(i.payable) for i in result.instalments] == ["0.00", "17.13", "219.18", "109.58"]  # 328.77 − 311.64
    assert result.payable == Decimal("345.89")  # 1095.89 − 750


def test_the_participation_is_taken_from_year_1_only() -> None:
    # year 1 is worth 600 (< 750): 240 + 180 + 120 + 60 all deducted; year 2 keeps its 600
    result = schedule(date(2025, 8, 1), date(2025, 9, 1), date(2027, 8, 31), "600", level=6)
    assert [str(i.deduction) for i in result.instalments] == ["240.00", "180.00", "120.00", "60.00"] + ["0.00"] * 4
    assert (result.deductions, result.payable) == (Decimal("600.00"), Decimal("600.00"))  # 1200 − 600


def test_no_participation_before_the_2025_regime_whatever_the_level() -> None:
    result = schedule(date(2024, 8, 1), date(2024, 9, 1), date(2025, 8, 31), "6000", level=7)
    assert result.deductions == 0
    assert result.payable == Decimal("6000.00")


# -- distance minoration and RQTH majoration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("npec", "applied"),
    [
        ("4500", "4000.00"),  # 0.8 × 4500 = 3600 < 4000: floor 4000, below 4500
        ("8000", "6400.00"),  # 0.8 × 8000 = 6400 ≥ 4000
        ("3500", "3500.00"),  # 0.8 × 3500 = 2800 → floor 4000, but never above the NPEC: 3500
        ("5000", "4000.00"),  # 0.8 × 5000 = 4000, the floor itself
    ],
)
def test_distance_minoration(npec: str, applied: str) -> None:
    result = schedule(date(2025, 7, 15), date(2025, 9, 1), date(2026, 8, 31), npec, distance_learning=True)
    assert str(result.npec_applied) == applied
    assert str(result.years[0].amount) == applied  # one full year
    assert str(result.total) == applied


def test_no_distance_minoration_before_the_2025_regime() -> None:
    result = schedule(date(2025, 6, 30), date(2025, 9, 1), date(2026, 8, 31), "8000", distance_learning=True)
    assert result.npec_applied == Decimal("8000.00")


@pytest.mark.parametrize(
    ("concluded", "npec", "applied"),
    [
        (date(2020, 6, 1), "6000", "9000.00"),  # 6000 + min(3000, 4000)
        (date(2023, 6, 1), "6000", "9000.00"),
        (date(2025, 8, 1), "6000", "9000.00"),
        (date(2023, 6, 1), "8000", "12000.00"),  # 8000 + min(4000, 4000)
        (date(2020, 6, 1), "10000", "14000.00"),  # 10000 + min(5000, 4000)
        (date(2025, 8, 1), "10000", "14000.00"),
    ],
)
def test_rqth_majoration(concluded: date, npec: str, applied: str) -> None:
    result = schedule(concluded, date(concluded.year, 9, 1), date(concluded.year + 1, 8, 31), npec, rqth=True)
    assert str(result.npec_applied) == applied
    assert str(result.total) == applied  # one full year


def test_rqth_is_added_to_the_minorated_npec() -> None:
    result = schedule(date(2025, 8, 1), date(2025, 9, 1), date(2026, 8, 31), "8000", rqth=True, distance_learning=True)
    assert result.npec_applied == Decimal("9600.00")  # 0.8 × 8000 = 6400; 6400 + min(3200, 4000)


# -- rounding -----------------------------------------------------------------------------------------------------


def test_the_last_instalment_of_a_year_takes_the_rounding_remainder() -> None:
    # 7000 × 100 / 365 = 1917.808… → 1917.81; × 0.40 = 767.124 → 767.12; × 0.30 = 575.343 → 575.34;
    # × 0.20 = 383.562 → 383.56; 1917.81 − 767.12 − 575.34 − 383.56 = 191.79 (10 % alone would be 191.78)
    result = schedule(date(2025, 9, 1), date(2025, 9, 1), date(2025, 12, 9), "7000")
    assert str(result.years[0].amount) == "1917.81"
    assert [str(i.amount) for i in result.instalments] == ["767.12", "575.34", "383.56", "191.79"]


def test_cents_are_rounded_half_up() -> None:
    # 4000.15 × 0.40 = 1600.06; × 0.30 = 1200.045 → 1200.05 (half even would give 1200.04);
    # 4000.15 − 1600.06 − 1200.05 = 1200.04
    result = schedule(date(2023, 8, 1), date(2023, 9, 1), date(2024, 8, 31), "4000.15")
    assert [str(i.amount) for i in result.instalments] == ["1600.06", "1200.05", "1200.04"]


def test_a_prorated_period_is_rounded_then_split() -> None:
    # 4 Sep 2023 + 9 months = 4 Jun ≤ 30 Jun < 4 Jul: 10 months; 7777 × 10 / 12 = 6480.833… → 6480.83;
    # × 0.50 = 3240.415 → 3240.42; 6480.83 − 3240.42 = 3240.41
    result = schedule(date(2023, 9, 1), date(2023, 9, 4), date(2024, 6, 30), "7777")
    assert str(result.years[0].amount) == "6480.83"
    assert [str(i.amount) for i in result.instalments] == ["3240.42", "3240.41"]


@pytest.mark.parametrize(
    ("concluded", "npec"),
    [(date(2020, 2, 1), "6999.99"), (date(2022, 2, 1), "7777.77"), (date(2025, 9, 1), "6999.99")],
)
def test_the_instalments_of_each_year_add_up_to_its_amount(concluded: date, npec: str) -> None:
    result = schedule(concluded, date(2026, 1, 17), date(2028, 11, 3), npec)
    for year in result.years:
        assert sum(i.amount for i in result.instalments if i.year == year.index) == year.amount
    assert result.total == sum(y.amount for y in result.years)
    assert [i.numero for i in result.instalments] == list(range(1, len(result.instalments) + 1))


# -- refusals -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("concluded", "start", "end", "npec", "level", "field", "code"),
    [
        (date(2024, 1, 1), date(2024, 9, 1), date(2024, 8, 31), Decimal(6000), None, "end", "end_before_start"),
        (date(2024, 1, 1), date(2024, 9, 1), date(2025, 8, 31), Decimal(0), None, "npec", "npec_not_positive"),
        (date(2024, 1, 1), date(2024, 9, 1), date(2025, 8, 31), Decimal(-1), None, "npec", "npec_not_positive"),
        (date(2024, 1, 1), date(2024, 9, 1), date(2025, 8, 31), Decimal("NaN"), None, "npec", "npec_not_decimal"),
        (
            date(2019, 12, 31),
            date(2020, 1, 6),
            date(2021, 1, 5),
            Decimal(6000),
            None,
            "concluded_on",
            "concluded_before_2020",
        ),
        (date(2024, 1, 1), date(2024, 9, 1), date(2025, 8, 31), Decimal(6000), 2, "level", "level_out_of_range"),
        (date(2024, 1, 1), date(2024, 9, 1), date(2025, 8, 31), Decimal(6000), 9, "level", "level_out_of_range"),
    ],
)
def test_invalid_terms_are_refused(
    concluded: date, start: date, end: date, npec: Decimal, level: int | None, field: str, code: str
) -> None:
    with pytest.raises(FundingTermsInvalid) as refused:
        FundingTerms(concluded, start, end, npec, level=level)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert isinstance(refused.value, ValueError)
    assert isinstance(refused.value, InvalidValue)
    assert (refused.value.problem.field, refused.value.problem.code) == (field, code)


def test_a_float_npec_is_refused() -> None:
    with pytest.raises(FundingTermsInvalid, match="Decimal"):
        FundingTerms(date(2024, 1, 1), date(2024, 9, 1), date(2025, 8, 31), 6000.0)  # type: ignore[arg-type]


def test_regime_of_refuses_a_conclusion_before_2020() -> None:
    with pytest.raises(FundingTermsInvalid, match="before 1 January 2020"):
        regime_of(date(2019, 12, 31))


def test_contract_years_refuse_an_end_before_the_start() -> None:
    with pytest.raises(FundingTermsInvalid, match="ends before it starts"):
        contract_years(date(2024, 9, 1), date(2024, 8, 31))


# -- the record for the API ----------------------------------------------------------------------------------------


def test_as_record() -> None:
    result = schedule(date(2025, 8, 1), date(2025, 9, 1), date(2025, 12, 9), "4000", level=6)
    record = result.as_record()
    assert {key: value for key, value in record.items() if key not in ("years", "instalments")} == {
        "regime": "2025",
        "npecApplied": "4000.00",
        "total": "1095.89",
        "deductions": "750.00",
        "payable": "345.89",
    }
    assert record["years"] == [
        {
            "index": 1,
            "start": "2025-09-01",
            "end": "2025-12-09",
            "days": 100,
            "yearDays": 365,
            "months": 4,
            "amount": "1095.89",
        }
    ]
    assert record["instalments"] == [
        _instalment(1, "0.40", "438.36", "438.36", "0.00", "2025-09-01", "2025-10-01", "advance", None),
        _instalment(2, "0.30", "328.77", "311.64", "17.13", "2025-12-09", "2026-01-08", "interim", None),
        _instalment(3, "0.20", "219.18", "0.00", "219.18", "2025-12-09", "2026-01-08", "interim", None),
        _instalment(
            4, "0.10", "109.58", "0.00", "109.58", "2025-12-09", "2026-01-08", "proof_of_service", "2026-04-09"
        ),
    ]


def _instalment(
    numero: int,
    share: str,
    amount: str,
    deduction: str,
    payable: str,
    opens_on: str,
    pay_by: str,
    condition: str,
    lost_after: str | None,
) -> dict[str, object]:
    return {
        "numero": numero,
        "codification": f"E{numero}",
        "year": 1,
        "share": share,
        "amount": amount,
        "deduction": deduction,
        "payable": payable,
        "opensOn": opens_on,
        "payBy": pay_by,
        "condition": condition,
        "lostAfter": lost_after,
    }
