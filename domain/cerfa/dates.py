"""Calendar arithmetic for contract rules: ages, anniversaries, month offsets."""

from __future__ import annotations

import calendar
from datetime import MAXYEAR, MINYEAR, date


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's end (31 Aug + 6 months = 28 Feb).

    A result past the calendar's ends (year 1 to 9999, which a Cerfa may hold) is that end: a limit computed
    from an absurd date still compares, so the rules report the date instead of failing on it."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if year < MINYEAR:
        return date.min
    if year > MAXYEAR:
        return date.max
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def age_on(birth: date, day: date) -> int:
    """Completed years on `day`; someone born on 29 February has a birthday on 1 March in common years."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def birthday(birth: date, age: int) -> date:
    """The day on which a person born on `birth` reaches `age` (the calendar's end when beyond it, as above)."""
    year = birth.year + age
    if not MINYEAR <= year <= MAXYEAR:
        return date.min if year < MINYEAR else date.max
    try:
        return birth.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 3, 1)


def first_of_next_month(day: date) -> date:
    """The 1st of the following month; the calendar's last day has none, and is its own."""
    if day.year == MAXYEAR and day.month == 12:
        return date.max
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def inclusive_days(start: date, end: date) -> int:
    return (end - start).days + 1
