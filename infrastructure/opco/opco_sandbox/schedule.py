"""The échéancier an OPCO sends back on engagement: per contract year, instalments by the funding regime.

The regime is that of the contract's conclusion date (Code du travail R6332-25, apprenticeship-rules.md §3):
2020 → 50/25/25 %; 2021-01-01..2025-06-30 → 40/30/30 %; from 2025-07-01 → 40/30/20/10 %.
Contract years run from the start date's anniversaries; every full year is worth the NPEC, the last one is
prorated by days (over the length of that contract year, 365 or 366).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

CENT = Decimal("0.01")
REFORM_2021 = date(2021, 1, 1)
REFORM_2025 = date(2025, 7, 1)


class Anchor(Enum):
    """When an instalment opens, within its contract year."""

    YEAR_START = "year start"
    MONTH_7 = "month 7"
    MONTH_10 = "month 10"
    YEAR_END = "year end"


@dataclass(frozen=True, slots=True)
class Share:
    percent: Decimal
    anchor: Anchor


REGIME_2020 = (
    Share(Decimal(50), Anchor.YEAR_START),
    Share(Decimal(25), Anchor.MONTH_7),
    Share(Decimal(25), Anchor.MONTH_10),
)
REGIME_2021 = (
    Share(Decimal(40), Anchor.YEAR_START),
    Share(Decimal(30), Anchor.MONTH_7),
    Share(Decimal(30), Anchor.MONTH_10),
)
REGIME_2025 = (
    Share(Decimal(40), Anchor.YEAR_START),
    Share(Decimal(30), Anchor.MONTH_7),
    Share(Decimal(20), Anchor.MONTH_10),
    Share(Decimal(10), Anchor.YEAR_END),
)


@dataclass(frozen=True, slots=True)
class ContractYear:
    start: date
    end: date  # inclusive; the contract's end for the last year
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Instalment:
    numero: int
    codification: str
    montant_total: Decimal
    date_ouverture: date
    date_debut: date
    date_fin: date


@dataclass(frozen=True, slots=True)
class Schedule:
    engagement: Decimal
    instalments: tuple[Instalment, ...]


def regime_for(concluded_on: date) -> tuple[Share, ...]:
    if concluded_on < REFORM_2021:
        return REGIME_2020
    if concluded_on < REFORM_2025:
        return REGIME_2021
    return REGIME_2025


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has fewer days (29 Feb → 28 Feb)."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def contract_years(start: date, end: date, npec: Decimal) -> list[ContractYear]:
    years: list[ContractYear] = []
    index = 0
    while add_months(start, 12 * index) <= end:
        year_start, next_start = add_months(start, 12 * index), add_months(start, 12 * (index + 1))
        year_end = min(next_start - timedelta(days=1), end)
        days, length = (year_end - year_start).days + 1, (next_start - year_start).days
        years.append(ContractYear(year_start, year_end, money(npec * days / length)))
        index += 1
    return years


def split(amount: Decimal, shares: Sequence[Share]) -> list[Decimal]:
    """The amount by share, rounded half-up to the cent; the last share takes the remainder."""
    parts = [money(amount * share.percent / 100) for share in shares[:-1]]
    return [*parts, amount - sum(parts, Decimal(0))]


def anchor_day(year: ContractYear, anchor: Anchor, *, clamp: bool = True) -> date:
    """The opening day; in a short last year, the openings that would fall after its end open on its end."""
    if anchor is Anchor.YEAR_END:
        return year.end
    day = add_months(year.start, {Anchor.YEAR_START: 0, Anchor.MONTH_7: 6, Anchor.MONTH_10: 9}[anchor])
    return min(day, year.end) if clamp else day


def covered_period(year: ContractYear, shares: Sequence[Share], index: int) -> tuple[date, date]:
    """The days an instalment pays for: up to the next one's opening; the 10 % one (service fait) covers the year."""
    share = shares[index]
    if share.anchor is Anchor.YEAR_END:
        return year.start, year.end
    following = [s.anchor for s in shares[index + 1 :] if s.anchor is not Anchor.YEAR_END]
    next_opening = anchor_day(year, following[0], clamp=False) if following else None
    if next_opening is None or next_opening > year.end:
        return anchor_day(year, share.anchor), year.end
    return anchor_day(year, share.anchor), next_opening - timedelta(days=1)


def compute_schedule(start: date, end: date, concluded_on: date, npec: Decimal, engaged_on: date) -> Schedule:
    """No instalment opens before the engagement (no invoice before the OPCO's accord de prise en charge)."""
    shares = regime_for(concluded_on)
    years = contract_years(start, end, npec)
    instalments: list[Instalment] = []
    for year in years:
        for index, amount in enumerate(split(year.amount, shares)):
            numero = len(instalments) + 1
            opens = max(anchor_day(year, shares[index].anchor), engaged_on)
            period_start, period_end = covered_period(year, shares, index)
            instalments.append(Instalment(numero, f"E{numero}", amount, opens, period_start, period_end))
    return Schedule(sum((year.amount for year in years), Decimal(0)), tuple(instalments))
