from __future__ import annotations

from datetime import date

import pytest

from domain.deadlines import add_working_days, deposit_deadline, easter, is_working_day, public_holidays


@pytest.mark.parametrize(
    ("year", "sunday"), [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5))]
)
def test_easter(year: int, sunday: date) -> None:
    assert easter(year) == sunday


def test_the_eleven_holidays_of_2026() -> None:
    holidays = public_holidays(2026)
    assert len(holidays) == 11
    assert {date(2026, 4, 6), date(2026, 5, 14), date(2026, 5, 25)} <= holidays  # Easter Monday, Ascension, Whit


def test_working_days_skip_weekends_and_holidays() -> None:
    assert is_working_day(date(2026, 9, 1))  # a Tuesday
    assert not is_working_day(date(2026, 9, 5))  # a Saturday
    assert not is_working_day(date(2026, 11, 11))  # Armistice, a Wednesday
    assert add_working_days(date(2026, 11, 9), 3) == date(2026, 11, 13)  # Mon + 3 skips Wed 11


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        (date(2026, 9, 1), date(2026, 9, 8)),  # Tuesday: Wed, Thu, Fri, Mon, Tue
        (date(2026, 9, 4), date(2026, 9, 11)),  # Friday: Mon..Fri of the next week
        (date(2026, 5, 11), date(2026, 5, 19)),  # Monday before Ascension (Thu 14): Tue, Wed, Fri, Mon, Tue
    ],
)
def test_deposit_deadline_is_five_working_days_after_the_start(start: date, deadline: date) -> None:
    assert deposit_deadline(start) == deadline
