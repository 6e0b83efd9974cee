"""Deadlines of the apprenticeship contract that a CFA must watch.

**The deposit.** "Au plus tard dans les cinq jours ouvrables qui suivent le début de l'exécution du contrat
d'apprentissage, l'employeur transmet ce contrat [...] à l'opérateur de compétences" (Code du travail, D6224-1).

- *Jours ouvrables* are every day of the week but the weekly rest day, Sunday (L3132-3), and the public holidays:
  Monday to Saturday, holidays excluded. The count starts the day after the contract's start
  (dateDebutContrat), so a contract starting on Tuesday 1 September 2026 is due on Monday 7 September.
- *Public holidays* are the eleven of L3133-1 (1 January, Easter Monday, 1 May, 8 May, Ascension, Whit Monday,
  14 July, 15 August, 1 November, 11 November, 25 December) and those of the place where the contract is
  performed:
  - Bas-Rhin (67), Haut-Rhin (68), Moselle (57): Good Friday and 26 December (L3134-13; Good Friday is due "in
    the communes with a Protestant church or a mixed one", which in practice is observed across the three
    départements, and is so here);
  - the commemoration of the abolition of slavery (L3422-2; loi n° 83-550 du 30 juin 1983, décret n° 83-1003 du
    23 novembre 1983): Mayotte 27 April, Martinique 22 May, Guadeloupe 27 May, Guyane 10 June, Saint-Barthélemy
    9 October, La Réunion 20 December; Saint-Martin 28 May (the date the State's circulars have set since 2018,
    in place of the 27 May of the earlier texts);
  - the days the calendar below adds by local custom (Good Friday and Mi-Carême in Guadeloupe).
  The calendar is the `holidays` package's (France and its subdivisions), a maintained, sourced table: no
  hand-written Easter computation to get wrong.
- *The place of performance* is the employer's establishment, whose SIRET and address the Cerfa names: its
  postcode gives the département (domain/postcodes.py). Without a usable postcode the national calendar applies.
  New Caledonia, French Polynesia and Wallis-and-Futuna have their own labour codes (the apprenticeship contract
  of the Code du travail does not apply there); a contract there is counted with that territory's holidays.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache, lru_cache

import holidays

DEPOSIT_WORKING_DAYS = 5
SUNDAY = 6  # date.weekday(): the weekly rest day (L3132-3)

# The `holidays` package's subdivision of France for each département with holidays of its own.
HOLIDAY_SUBDIVISIONS = {
    "57": "57",  # Moselle
    "67": "6AE",  # Bas-Rhin (Alsace)
    "68": "6AE",  # Haut-Rhin (Alsace)
    "971": "971",  # Guadeloupe
    "972": "972",  # Martinique
    "973": "973",  # Guyane
    "974": "974",  # La Réunion
    "975": "PM",  # Saint-Pierre-et-Miquelon
    "976": "976",  # Mayotte
    "977": "BL",  # Saint-Barthélemy
    "978": "MF",  # Saint-Martin
    "984": "TF",  # Terres australes et antarctiques françaises
    "986": "WF",  # Wallis-et-Futuna
    "987": "PF",  # Polynésie française
    "988": "NC",  # Nouvelle-Calédonie
}


@cache
def public_holidays(year: int, departement: str | None) -> frozenset[date]:
    """The public holidays of the year where the contract is performed (None: the national ones)."""
    subdivision = HOLIDAY_SUBDIVISIONS.get(departement or "")
    return frozenset(holidays.country_holidays("FR", subdiv=subdivision, years=year))


def is_working_day(day: date, departement: str | None) -> bool:
    """A jour ouvrable: not a Sunday, not a public holiday of the département."""
    return day.weekday() != SUNDAY and day not in public_holidays(day.year, departement)


def add_working_days(start: date, days: int, departement: str | None) -> date:
    """The `days`-th jour ouvrable after `start` (start itself not counted); the calendar's last day when it would
    fall past it (a Cerfa may start a contract on 9999-12-31: its deadline is reported, not a failure)."""
    current = start
    try:
        for _ in range(days):
            current += timedelta(days=1)
            while not is_working_day(current, departement):
                current += timedelta(days=1)
    except OverflowError:
        return date.max
    return current


@lru_cache(maxsize=4096)  # a list of dossiers asks it for the same few (start, département) again and again
def deposit_deadline(contract_start: date, departement: str | None) -> date:
    """The last day to deposit the contract with the OPCO: the fifth jour ouvrable after its start, counted with
    the public holidays of the département where it is performed (the employer's)."""
    return add_working_days(contract_start, DEPOSIT_WORKING_DAYS, departement)
