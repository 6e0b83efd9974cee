"""What a rupture does to the funding, with figures computed by hand (docs/funding.md, "Ruptures")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.funding import FundingTerms
from domain.ruptures.rupture_funding import funding_at_rupture

# 2025 regime (concluded from 2025-07-01): the days performed. 1 Sep 2026 – 31 Aug 2028, year 1 has 365 days.
TERMS_2025 = FundingTerms(
    concluded_on=date(2026, 7, 10), start=date(2026, 9, 1), end=date(2028, 8, 31), npec=Decimal("8000"), level=6
)


def test_2025_contracts_are_prorated_by_day_to_the_rupture() -> None:
    # 1 Oct 2025 – 31 Mar 2026: 31 + 30 + 31 + 31 + 28 + 31 = 182 days; 7 320 × 182 / 365 = 3 649.972… → 3 649.97
    terms = FundingTerms(
        concluded_on=date(2025, 9, 20), start=date(2025, 10, 1), end=date(2028, 6, 30), npec=Decimal("7320")
    )
    effect = funding_at_rupture(terms, date(2026, 3, 31), inside_probation=False)
    assert effect.schedule.total == Decimal("3649.97")
    assert effect.participation == Decimal("0.00")  # no level given: no employer participation
    assert effect.ceiling == Decimal("3649.97")
    assert [y.days for y in effect.schedule.years] == [182]


def test_earlier_contracts_are_prorated_by_started_month() -> None:
    # 15 Sep 2022 → 20 Jan 2023: months starting 15 Sep, 15 Oct, 15 Nov, 15 Dec, 15 Jan = 5; 8 250 × 5/12 = 3 437.50
    terms = FundingTerms(
        concluded_on=date(2022, 9, 10), start=date(2022, 9, 15), end=date(2025, 6, 30), npec=Decimal("8250")
    )
    assert funding_at_rupture(terms, date(2023, 1, 20), inside_probation=False).schedule.total == Decimal("3437.50")
    # year 1 whole (8 250) + year 2 from 15 Sep 2023 to 14 Jan 2024: 4 started months, 2 750 → 11 000
    assert funding_at_rupture(terms, date(2024, 1, 14), inside_probation=False).schedule.total == Decimal("11000.00")


def test_inside_the_45_days_the_participation_is_half_the_prorated_npec() -> None:
    # day 45 (15 Oct 2026): 8 000 × 45 / 365 = 986.301… → 986.30; half is 493.15 (the ministry's "≈ 493 €")
    effect = funding_at_rupture(TERMS_2025, date(2026, 10, 15), inside_probation=True)
    assert effect.schedule.total == Decimal("986.30")
    assert effect.participation == Decimal("493.15")
    assert effect.ceiling == Decimal("493.15")
    assert effect.last_invoice_by == date(2027, 2, 15)


def test_inside_the_45_days_the_participation_is_capped_at_750() -> None:
    # 40 000 × 45 / 365 = 4 931.506… → 4 931.51; half 2 465.76 > 750: 750; payable 4 181.51
    terms = FundingTerms(
        concluded_on=date(2026, 7, 10), start=date(2026, 9, 1), end=date(2028, 8, 31), npec=Decimal("40000"), level=7
    )
    effect = funding_at_rupture(terms, date(2026, 10, 15), inside_probation=True)
    assert (effect.schedule.total, effect.participation, effect.ceiling) == (
        Decimal("4931.51"),
        Decimal("750.00"),
        Decimal("4181.51"),
    )


def test_after_the_45_days_the_participation_is_due_whole() -> None:
    # 1 Sep – 31 Dec 2026: 30 + 31 + 30 + 31 = 122 days; 8 000 × 122 / 365 = 2 673.972… → 2 673.97; less 750
    effect = funding_at_rupture(TERMS_2025, date(2026, 12, 31), inside_probation=False)
    assert (effect.schedule.total, effect.participation, effect.ceiling) == (
        Decimal("2673.97"),
        Decimal("750.00"),
        Decimal("1923.97"),
    )
    # the deadline of the last invoice and attestation: 4 months after the effective end
    assert effect.last_invoice_by == date(2027, 4, 30)
    record = effect.as_record()
    assert (record["proratedTotal"], record["employerParticipation"], record["payable"]) == (
        "2673.97",
        "750.00",
        "1923.97",
    )


def test_a_month_end_deadline_takes_the_last_day_of_a_shorter_month() -> None:
    effect = funding_at_rupture(TERMS_2025, date(2026, 10, 31), inside_probation=False)
    assert effect.last_invoice_by == date(2027, 2, 28)


def test_below_level_6_no_participation_is_owed() -> None:
    terms = FundingTerms(
        concluded_on=date(2026, 7, 10), start=date(2026, 9, 1), end=date(2028, 8, 31), npec=Decimal("8000"), level=5
    )
    effect = funding_at_rupture(terms, date(2026, 10, 15), inside_probation=True)
    assert (effect.participation, effect.ceiling) == (Decimal("0.00"), Decimal("986.30"))
