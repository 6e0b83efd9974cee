"""The deposit deadline: five jours ouvrables (Monday to Saturday, public holidays of the workplace excluded) after
the contract's start (Code du travail D6224-1). Each expected date below was counted by hand on a calendar; the
comments list the days counted."""

from __future__ import annotations

from datetime import date

import pytest

from domain.contracts.deadlines import add_working_days, deposit_deadline, is_working_day, public_holidays
from domain.postcodes import departement_of_postcode

PARIS, MOSELLE, BAS_RHIN, REUNION, MAYOTTE = "75", "57", "67", "974", "976"


def test_a_saturday_is_a_jour_ouvrable_a_sunday_is_not() -> None:
    assert is_working_day(date(2026, 9, 5), PARIS)  # a Saturday
    assert not is_working_day(date(2026, 9, 6), PARIS)  # a Sunday
    assert is_working_day(date(2026, 9, 7), PARIS)  # a Monday


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        (date(2026, 9, 1), date(2026, 9, 7)),  # Tuesday: Wed 2, Thu 3, Fri 4, Sat 5, Mon 7
        (date(2026, 9, 4), date(2026, 9, 10)),  # Friday: Sat 5, Mon 7, Tue 8, Wed 9, Thu 10
        (date(2026, 9, 5), date(2026, 9, 11)),  # Saturday: Mon 7 .. Fri 11 (Sunday 6 skipped)
    ],
)
def test_the_deadline_counts_saturdays(start: date, deadline: date) -> None:
    assert deposit_deadline(start, PARIS) == deadline


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        (date(2026, 7, 10), date(2026, 7, 17)),  # Fri: Sat 11, Mon 13, (Tue 14 July), Wed 15, Thu 16, Fri 17
        (date(2026, 4, 30), date(2026, 5, 7)),  # Thu: (Fri 1 May), Sat 2, Mon 4, Tue 5, Wed 6, Thu 7
        (date(2026, 5, 11), date(2026, 5, 18)),  # Mon: Tue 12, Wed 13, (Thu 14 Ascension), Fri 15, Sat 16, Mon 18
        (date(2026, 11, 9), date(2026, 11, 16)),  # Mon: Tue 10, (Wed 11 November), Thu 12, Fri 13, Sat 14, Mon 16
    ],
)
def test_the_national_public_holidays_do_not_count(start: date, deadline: date) -> None:
    assert deposit_deadline(start, PARIS) == deadline


def test_the_days_around_a_national_holiday_count() -> None:  # near-misses
    assert not is_working_day(date(2026, 7, 14), PARIS)
    assert is_working_day(date(2026, 7, 13), PARIS)
    assert is_working_day(date(2026, 7, 15), PARIS)
    assert len(public_holidays(2026, PARIS)) == 11  # L3133-1's eleven


def test_good_friday_is_a_holiday_in_moselle_and_alsace_not_in_paris() -> None:
    good_friday = date(2026, 4, 3)  # Easter Sunday 2026 is 5 April
    assert not is_working_day(good_friday, MOSELLE)
    assert not is_working_day(good_friday, BAS_RHIN)
    assert is_working_day(good_friday, PARIS)
    # Wed 1 April; Paris: Thu 2, Fri 3, Sat 4, (Sun 5, Easter Monday 6), Tue 7, Wed 8
    assert deposit_deadline(date(2026, 4, 1), PARIS) == date(2026, 4, 8)
    # Moselle: Thu 2, (Good Friday 3), Sat 4, (Sun 5, Easter Monday 6), Tue 7, Wed 8, Thu 9
    assert deposit_deadline(date(2026, 4, 1), MOSELLE) == date(2026, 4, 9)


def test_26_december_is_a_holiday_in_moselle_not_in_paris() -> None:
    assert not is_working_day(date(2026, 12, 26), MOSELLE)  # a Saturday
    assert is_working_day(date(2026, 12, 26), PARIS)
    # Tue 22 December; Paris: Wed 23, Thu 24, (Fri 25), Sat 26, Mon 28, Tue 29
    assert deposit_deadline(date(2026, 12, 22), PARIS) == date(2026, 12, 29)
    # Moselle: Wed 23, Thu 24, (Fri 25, Sat 26), Mon 28, Tue 29, Wed 30
    assert deposit_deadline(date(2026, 12, 22), MOSELLE) == date(2026, 12, 30)


def test_20_december_is_a_holiday_in_la_reunion_only() -> None:
    abolition = date(2025, 12, 20)  # a Saturday, so it moves the deadline
    assert not is_working_day(abolition, REUNION)
    assert is_working_day(abolition, PARIS)
    assert is_working_day(abolition, MAYOTTE)
    # Thu 18 December 2025; La Réunion: Fri 19, (Sat 20), Mon 22, Tue 23, Wed 24, (Thu 25), Fri 26
    assert deposit_deadline(date(2025, 12, 18), REUNION) == date(2025, 12, 26)
    # Paris: Fri 19, Sat 20, Mon 22, Tue 23, Wed 24
    assert deposit_deadline(date(2025, 12, 18), PARIS) == date(2025, 12, 24)


def test_27_april_is_a_holiday_in_mayotte_only() -> None:
    abolition = date(2026, 4, 27)  # a Monday
    assert not is_working_day(abolition, MAYOTTE)
    assert is_working_day(abolition, REUNION)
    assert is_working_day(abolition, PARIS)
    # Fri 24 April; Mayotte: Sat 25, (Mon 27), Tue 28, Wed 29, Thu 30, (Fri 1 May), Sat 2
    assert deposit_deadline(date(2026, 4, 24), MAYOTTE) == date(2026, 5, 2)
    # Paris: Sat 25, Mon 27, Tue 28, Wed 29, Thu 30
    assert deposit_deadline(date(2026, 4, 24), PARIS) == date(2026, 4, 30)


def test_saint_barthelemy_keeps_its_own_day_not_guadeloupes() -> None:
    guadeloupe, saint_barthelemy = departement_of_postcode("97110"), departement_of_postcode("97133")
    assert not is_working_day(date(2026, 5, 27), guadeloupe)  # Guadeloupe's abolition day, a Wednesday
    assert is_working_day(date(2026, 5, 27), saint_barthelemy)
    assert not is_working_day(date(2026, 10, 9), saint_barthelemy)  # its own, a Friday
    assert is_working_day(date(2026, 10, 9), guadeloupe)


def test_an_unknown_departement_counts_with_the_national_holidays() -> None:
    assert public_holidays(2026, None) == public_holidays(2026, PARIS) == public_holidays(2026, "2A")
    assert deposit_deadline(date(2026, 9, 1), None) == date(2026, 9, 7)


def test_the_warning_horizon_counts_the_same_days() -> None:
    assert add_working_days(date(2026, 12, 24), 2, MOSELLE) == date(2026, 12, 29)  # (Fri 25, Sat 26), Mon, Tue
    assert add_working_days(date(2026, 12, 24), 2, PARIS) == date(2026, 12, 28)  # (Fri 25), Sat 26, Mon 28


@pytest.mark.parametrize(
    ("postcode", "departement"),
    [
        ("75011", "75"),
        ("01000", "01"),
        ("57000", "57"),  # Metz
        ("67000", "67"),  # Strasbourg
        ("20090", "2A"),  # Ajaccio
        ("20100", "2A"),  # Sartène
        ("20200", "2B"),  # Bastia
        ("20600", "2B"),  # Bastia (Furiani)
        ("97110", "971"),  # Pointe-à-Pitre
        ("97200", "972"),  # Fort-de-France
        ("97300", "973"),  # Cayenne
        ("97400", "974"),  # Saint-Denis
        ("97500", "975"),  # Saint-Pierre
        ("97600", "976"),  # Mamoudzou
        ("97133", "977"),  # Saint-Barthélemy, with a Guadeloupe postcode
        ("97150", "978"),  # Saint-Martin, likewise
        ("98800", "988"),  # Nouméa
        ("98000", None),  # Monaco
        ("97900", None),
        ("99000", None),
        ("7501", None),
        (None, None),
    ],
)
def test_the_departement_of_a_postcode(postcode: str | None, departement: str | None) -> None:
    assert departement_of_postcode(postcode) == departement
