"""The calendar arithmetic of the Cerfa rules is total: any two dates the schema accepts give an answer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.cerfa.dates import add_months, birthday, first_of_next_month
from domain.cerfa.remuneration import bracket_age, contract_year, minimum_rate, minimum_rate_on


def test_month_offsets_past_the_calendar_stop_at_its_ends() -> None:
    assert add_months(date(9999, 11, 15), 3) == date.max
    assert add_months(date(1, 2, 10), -3) == date.min
    assert add_months(date(9999, 9, 30), 3) == date(9999, 12, 30)
    assert first_of_next_month(date(9999, 12, 5)) == date.max
    assert first_of_next_month(date(9999, 11, 5)) == date(9999, 12, 1)
    assert birthday(date(9990, 5, 1), 21) == date.max
    assert birthday(date(5, 6, 1), -5) == date.min


def test_an_age_below_zero_is_in_the_youngest_bracket() -> None:
    assert minimum_rate(-3, 1) == minimum_rate(17, 1) == Decimal(27)
    assert minimum_rate_on(date(2030, 1, 1), date(2026, 9, 1), date(2027, 9, 15)) == Decimal(39)


@given(st.dates(), st.dates(), st.dates())
def test_the_pay_minimum_is_defined_for_any_dates(birth: date, start: date, day: date) -> None:
    assert minimum_rate(bracket_age(birth, day), contract_year(start, day)) in {
        Decimal(rate) for rate in (27, 39, 55, 43, 51, 67, 53, 61, 78, 100)
    }


@given(st.dates(), st.integers(-12 * 10_000, 12 * 10_000))
def test_month_offsets_are_monotonic_and_within_the_calendar(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later >= day) if months >= 0 else (later <= day)
