"""Deadlines of the apprenticeship contract that a CFA must watch.

The contract must be deposited with the OPCO within 5 working days after the start of its execution
(Code du travail D6224-1; ../shared/reference/apprenticeship-rules.md §5). Working days here: Monday to Friday,
except French public holidays.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache, lru_cache

DEPOSIT_WORKING_DAYS = 5


def easter(year: int) -> date:
    """Easter Sunday, Gregorian calendar (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday_shift) // 433
    month = (h + weekday_shift - 7 * m + 90) // 25
    day = (h + weekday_shift - 7 * m + 33 * month + 19) % 32
    return date(year, month, day)


@cache
def public_holidays(year: int) -> frozenset[date]:
    """The eleven French public holidays of metropolitan France (Code du travail L3133-1)."""
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    sunday = easter(year)
    movable = [sunday + timedelta(days=1), sunday + timedelta(days=39), sunday + timedelta(days=50)]
    return frozenset([date(year, m, d) for m, d in fixed] + movable)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in public_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """`days` working days after `start`; the calendar's last day when they would fall past it (a Cerfa may
    start a contract on 9999-12-31: its deadline is reported, not a failure)."""
    current = start
    try:
        for _ in range(days):
            current += timedelta(days=1)
            while not is_working_day(current):
                current += timedelta(days=1)
    except OverflowError:
        return date.max
    return current


@lru_cache(maxsize=4096)  # a list of dossiers asks it for the same few start dates again and again
def deposit_deadline(contract_start: date) -> date:
    """The last day to deposit the contract with the OPCO: 5 working days after its start."""
    return add_working_days(contract_start, DEPOSIT_WORKING_DAYS)
