"""The legal minimum pay of an apprentice (Code du travail D6222-26 s.) and the SMIC it is a percentage of."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Final

from domain.cerfa.dates import add_years, age_on, birthday, first_of_next_month

# Monthly gross SMIC for 35 h a week (151.67 h), mainland France and the overseas departments and collectivities
# except Mayotte, whose own SMIC is below. Extend both tables at every revaluation.
SMIC_MENSUEL: Final[tuple[tuple[date, Decimal], ...]] = (
    (date(2020, 1, 1), Decimal("1539.42")),  # décret n° 2019-1387 du 18 décembre 2019 (10.15 €/h)
    (date(2021, 1, 1), Decimal("1554.58")),  # décret n° 2020-1598 du 16 décembre 2020 (10.25 €/h)
    (date(2021, 10, 1), Decimal("1589.47")),  # arrêté du 27 septembre 2021, automatic revaluation (10.48 €/h)
    (date(2022, 1, 1), Decimal("1603.12")),  # décret n° 2021-1741 du 22 décembre 2021 (10.57 €/h)
    (date(2022, 5, 1), Decimal("1645.58")),  # arrêté du 20 avril 2022, automatic revaluation (10.85 €/h)
    (date(2022, 8, 1), Decimal("1678.95")),  # arrêté du 29 juillet 2022, automatic revaluation (11.07 €/h)
    (date(2023, 1, 1), Decimal("1709.28")),  # décret n° 2022-1608 du 22 décembre 2022 (11.27 €/h)
    (date(2023, 5, 1), Decimal("1747.20")),  # arrêté du 26 avril 2023, automatic revaluation (11.52 €/h)
    (date(2024, 1, 1), Decimal("1766.92")),  # décret n° 2023-1216 du 20 décembre 2023 (11.65 €/h)
    (
        date(2024, 11, 1),
        Decimal("1801.80"),
    ),  # décret n° 2024-951 du 23 octobre 2024 (11.88 €/h; unchanged 2025)
    (date(2026, 1, 1), Decimal("1823.03")),  # décret n° 2025-1228 of December 2025, +1.18 % (12.02 €/h)
)

# Mayotte's monthly gross SMIC, set by the same décrets and arrêtés (their article on Mayotte), as the ministry
# published it; the contract app's buildRemuneration.ts carries the same figures up to 2024.
SMIC_MENSUEL_MAYOTTE: Final[tuple[tuple[date, Decimal], ...]] = (
    (date(2020, 1, 1), Decimal("1161.77")),  # 7.66 €/h
    (date(2021, 1, 1), Decimal("1173.27")),  # 7.74 €/h
    (date(2021, 10, 1), Decimal("1199.08")),  # 7.91 €/h
    (date(2022, 1, 1), Decimal("1210.30")),  # 7.98 €/h
    (date(2022, 5, 1), Decimal("1242.15")),  # 8.19 €/h
    (date(2022, 8, 1), Decimal("1266.42")),  # 8.35 €/h
    (date(2023, 1, 1), Decimal("1290.68")),  # 8.51 €/h
    (date(2023, 5, 1), Decimal("1319.50")),  # 8.70 €/h
    (date(2024, 1, 1), Decimal("1334.67")),  # 8.80 €/h
    (date(2024, 11, 1), Decimal("1361.97")),  # 8.98 €/h
    (date(2026, 1, 1), Decimal("1415.05")),  # 9.33 €/h (décret n° 2025-1228): 87.5 % of the national net SMIC
)

LEGAL_WEEKLY_MINUTES: Final = 35 * 60

# Minimum % of the SMIC by age bracket (lowest age of the bracket) and contract year 1, 2, 3 and after.
_RATES: Final[tuple[tuple[int, tuple[int, int, int]], ...]] = (
    (26, (100, 100, 100)),
    (21, (53, 61, 78)),
    (18, (43, 51, 67)),
    (0, (27, 39, 55)),
)


def smic_on(day: date, *, mayotte: bool = False) -> Decimal | None:
    """The monthly SMIC in force on `day` (in Mayotte, Mayotte's); None before 2020, which this service does
    not handle."""
    amounts = [amount for since, amount in (SMIC_MENSUEL_MAYOTTE if mayotte else SMIC_MENSUEL) if since <= day]
    return amounts[-1] if amounts else None


def bracket_age(birth: date, day: date) -> int:
    """The age whose pay bracket applies on `day`: a new age counts from the 1st of the month after the
    birthday (D6222-34)."""
    age = age_on(birth, day)
    if first_of_next_month(birthday(birth, age)) > day:
        return age - 1
    return age


def contract_year(start: date, day: date) -> int:
    """1 for the first year of execution; a new year starts on each anniversary of the start date."""
    years = day.year - start.year
    if add_years(start, years) > day:
        years -= 1
    return years + 1


def minimum_rate(age: int, year: int) -> Decimal:
    """The minimum % of the SMIC for an age (as given by `bracket_age`) and a contract year. The last bracket is
    every age under 18, also the negative one of a birth date after the day judged (a problem of its own)."""
    by_year = next((rates for lowest, rates in _RATES if age >= lowest), _RATES[-1][1])
    return Decimal(by_year[min(max(year, 1), 3) - 1])


def minimum_rate_on(birth: date, start: date, day: date) -> Decimal:
    """The minimum % of the SMIC in force on `day`, for a birth date and a contract start."""
    return minimum_rate(bracket_age(birth, day), contract_year(start, day))


def minimum_monthly_pay(rate: Decimal, base: Decimal, weekly_minutes: int | None) -> Decimal:
    """`rate` % of the monthly `base`, prorated when the week is under 35 h, rounded up to the cent."""
    if weekly_minutes is None or weekly_minutes >= LEGAL_WEEKLY_MINUTES:
        weekly_minutes = LEGAL_WEEKLY_MINUTES
    amount = rate * base * weekly_minutes / (100 * LEGAL_WEEKLY_MINUTES)
    return amount.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
