"""Contract years: anchored on the start date's anniversaries, the last one cut at the contract's end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.funding.dates import ONE_DAY, anniversary, iso, started_months
from domain.funding.errors import FundingTermsInvalid
from domain.money import ZERO, money_text


@dataclass(frozen=True, slots=True)
class ContractYear:
    index: int  # 1-based
    start: date
    end: date  # inclusive: the day before the next anniversary, or the contract's end
    days: int  # days in [start, end]
    year_days: int  # days of the whole anniversary year (366 when it holds a 29 February)
    months: int  # started months in [start, end], counted from `start`
    amount: Decimal = ZERO  # 0.00 until `funding_schedule` prices the year

    @property
    def is_full(self) -> bool:
        return self.days == self.year_days

    def as_record(self) -> dict[str, object]:
        return {
            "index": self.index,
            "start": iso(self.start),
            "end": iso(self.end),
            "days": self.days,
            "yearDays": self.year_days,
            "months": self.months,
            "amount": money_text(self.amount),
        }


def contract_years(start: date, end: date) -> tuple[ContractYear, ...]:
    """Year k runs from start + (k-1) years to start + k years - 1 day, each computed from `start` itself."""
    if end < start:
        raise FundingTermsInvalid("end", "end_before_start", "the contract ends before it starts")
    years: list[ContractYear] = []
    while (year_start := anniversary(start, 12 * len(years))) <= end:
        next_start = anniversary(start, 12 * (len(years) + 1))
        year_end = min(next_start - ONE_DAY, end)
        days, year_days = (year_end - year_start).days + 1, (next_start - year_start).days
        years.append(
            ContractYear(len(years) + 1, year_start, year_end, days, year_days, started_months(year_start, year_end))
        )
    return tuple(years)
