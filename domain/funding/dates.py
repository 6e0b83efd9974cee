"""Calendar arithmetic of the funding schedule.

Two conventions, on purpose. A *period boundary* (contract year, month of a year) that falls on a day the target
month lacks moves to the 1st of the next month: the year starting on 29 February 2024 ends on 28 February 2025 and
the next starts on 1 March. A *deadline* counted in months ends on the same day of the month, or on the month's last
day when it has no such day (as délais do, Code de procédure civile art. 641).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


def _month_after(day: date, months: int) -> tuple[int, int]:
    years, month_index = divmod(day.month - 1 + months, 12)
    return day.year + years, month_index + 1


def anniversary(day: date, months: int) -> date:
    """The period boundary `months` after `day` (31 Aug + 6 months = 1 Mar; 29 Feb + 12 months = 1 Mar)."""
    year, month = _month_after(day, months)
    if day.day <= calendar.monthrange(year, month)[1]:
        return date(year, month, day.day)
    return date(year, month, 1) + timedelta(days=calendar.monthrange(year, month)[1])


def months_later(day: date, months: int) -> date:
    """The deadline `months` after `day` (31 Oct + 4 months = 28 or 29 Feb)."""
    year, month = _month_after(day, months)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def started_months(start: date, end: date) -> int:
    """Months of the period [start, end] that have begun, counted from `start` (each started month is due)."""
    months = 1
    while anniversary(start, months) <= end:
        months += 1
    return months


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
