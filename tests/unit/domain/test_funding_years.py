"""Contract years and the calendar conventions of the funding schedule (docs/funding.md, "Calendar")."""

from __future__ import annotations

from datetime import date

import pytest

from domain.funding import contract_years
from domain.funding.dates import anniversary, months_later, started_months


def spans(start: date, end: date) -> list[tuple[int, date, date, int, int, int]]:
    """(index, start, end, days, year_days, months) per contract year."""
    return [(y.index, y.start, y.end, y.days, y.year_days, y.months) for y in contract_years(start, end)]


def test_years_of_a_contract_starting_on_29_february_are_anchored_on_the_start_itself() -> None:
    assert spans(date(2024, 2, 29), date(2028, 3, 15)) == [
        (1, date(2024, 2, 29), date(2025, 2, 28), 366, 366, 12),  # 29 Feb 2024 .. 1 Mar 2025 = 366 days
        (2, date(2025, 3, 1), date(2026, 2, 28), 365, 365, 12),
        (3, date(2026, 3, 1), date(2027, 2, 28), 365, 365, 12),
        (4, date(2027, 3, 1), date(2028, 2, 28), 365, 365, 12),  # start + 4 years is 29 Feb 2028 again
        (5, date(2028, 2, 29), date(2028, 3, 15), 16, 366, 1),  # 1 + 15 days, of 29 Feb 2028 .. 28 Feb 2029
    ]


def test_a_year_holding_29_february_has_366_days() -> None:
    assert spans(date(2023, 3, 1), date(2024, 2, 29)) == [(1, date(2023, 3, 1), date(2024, 2, 29), 366, 366, 12)]
    assert spans(date(2024, 3, 1), date(2025, 2, 28)) == [(1, date(2024, 3, 1), date(2025, 2, 28), 365, 365, 12)]


def test_years_starting_on_the_31st_keep_their_day() -> None:
    assert spans(date(2023, 8, 31), date(2026, 8, 30)) == [
        (1, date(2023, 8, 31), date(2024, 8, 30), 366, 366, 12),
        (2, date(2024, 8, 31), date(2025, 8, 30), 365, 365, 12),
        (3, date(2025, 8, 31), date(2026, 8, 30), 365, 365, 12),
    ]


def test_the_last_year_ends_with_the_contract() -> None:
    # 1 Sep 2025 .. 30 Jun 2027: a full year, then 30+31+30+31+31+28+31+30+31+30 = 303 days (10 started months)
    assert spans(date(2025, 9, 1), date(2027, 6, 30)) == [
        (1, date(2025, 9, 1), date(2026, 8, 31), 365, 365, 12),
        (2, date(2026, 9, 1), date(2027, 6, 30), 303, 365, 10),
    ]


def test_a_one_day_contract_has_one_year_of_one_day() -> None:
    assert spans(date(2025, 1, 31), date(2025, 1, 31)) == [(1, date(2025, 1, 31), date(2025, 1, 31), 1, 365, 1)]


def test_an_unpriced_year_is_worth_nothing_yet() -> None:
    (year,) = contract_years(date(2025, 9, 1), date(2026, 8, 31))
    assert str(year.amount) == "0.00"
    assert year.is_full


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 2, 29), 12, date(2025, 3, 1)),  # no 29 Feb 2025: the 1st of the next month
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 8, 31), 6, date(2025, 3, 1)),  # no 31 Feb
        (date(2024, 1, 31), 1, date(2024, 3, 1)),  # no 31 Feb, even in a leap year
        (date(2025, 3, 31), 1, date(2025, 5, 1)),  # no 31 Apr
        (date(2025, 10, 15), 3, date(2026, 1, 15)),  # across the year
        (date(2025, 10, 15), 0, date(2025, 10, 15)),
    ],
)
def test_a_period_boundary_missing_in_its_month_moves_to_the_first_of_the_next(
    day: date, months: int, expected: date
) -> None:
    assert anniversary(day, months) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2028, 6, 30), 4, date(2028, 10, 30)),
        (date(2027, 10, 31), 4, date(2028, 2, 29)),  # no 31 Feb: the month's last day
        (date(2026, 10, 31), 4, date(2027, 2, 28)),
        (date(2025, 8, 31), 4, date(2025, 12, 31)),
    ],
)
def test_a_deadline_missing_in_its_month_is_the_last_day_of_that_month(day: date, months: int, expected: date) -> None:
    assert months_later(day, months) == expected


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2024, 9, 1), date(2025, 6, 30), 10),  # + 9 months = 1 Jun ≤ 30 Jun < 1 Jul
        (date(2024, 9, 15), date(2025, 6, 14), 9),  # + 9 months = 15 Jun > 14 Jun
        (date(2024, 9, 15), date(2025, 6, 15), 10),  # a single day starts month 10
        (date(2025, 9, 1), date(2025, 9, 1), 1),
        (date(2025, 9, 1), date(2026, 8, 31), 12),
        (date(2025, 1, 31), date(2025, 2, 28), 1),  # month 2 starts on 1 Mar
        (date(2025, 1, 31), date(2025, 3, 1), 2),
    ],
)
def test_started_months(start: date, end: date, months: int) -> None:
    assert started_months(start, end) == months
