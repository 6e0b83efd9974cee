"""What blocks the submission of a Cerfa: missing fields and the legal consistency checks.

Pure functions of the Cerfa alone (no clock, no I/O). A rule whose inputs are absent is skipped: the
`required` check already reports them. Problem fields are dotted paths from the dossier root (``cerfa.…``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from domain.cerfa import rules_pay, rules_people, rules_training
from domain.cerfa.dates import add_months, add_years, age_on, inclusive_days
from domain.cerfa.facts import age_limit_lifted, works_in_mayotte
from domain.cerfa.model import Cerfa, Contrat, RemunerationAnnuelle
from domain.cerfa.remuneration import (
    bracket_age,
    contract_year,
    minimum_monthly_pay,
    minimum_rate,
    smic_on,
)
from domain.cerfa.required import missing_fields
from domain.problems import Problem

REGIME_START: Final = date(2020, 1, 1)
INITIAL_CONTRACTS: Final = frozenset({11, 21, 22, 23})
MAX_WEEKLY_MINUTES: Final = 40 * 60
ANNUAL_WORKING_HOURS: Final = 1607
DEROGATION_UNDER_16: Final = 11
DEROGATION_OVER_29: Final = 12
DEROGATION_COMBINED: Final = 50  # "cumul de dérogations": stands for any of the others
UNDER_16_DEROGATIONS: Final = frozenset({DEROGATION_UNDER_16, DEROGATION_COMBINED})
OVER_29_DEROGATIONS: Final = frozenset({DEROGATION_OVER_29, DEROGATION_COMBINED})
EXAM_FAILURE_EXTENSION: Final = 33  # amendment prolonging the contract by up to a year (L6222-11)
LONGEST_MONTHS: Final = 54  # the contract app's ceiling, 4 years and 6 months

Rule = Callable[[Cerfa], Iterator[Problem]]


def check_cerfa(cerfa: Cerfa) -> list[Problem]:
    """Every problem that blocks the submission of `cerfa`, missing fields first; [] when it can be sent."""
    problems = missing_fields(cerfa)
    for rule in RULES:
        problems.extend(rule(cerfa))
    return problems


def _problem(path: str, code: str, message: str) -> Problem:
    return Problem(f"cerfa.{path}", code, message)


# --- ages -----------------------------------------------------------------------------------------


def apprentice_age(cerfa: Cerfa) -> Iterator[Problem]:
    apprenti, contrat = cerfa.apprenti, cerfa.contrat
    if not apprenti or not contrat or not apprenti.dateNaissance or not contrat.dateDebutContrat:
        return
    start = contrat.dateDebutContrat
    if apprenti.dateNaissance >= start:
        yield _problem(
            "apprenti.dateNaissance",
            "birth_not_before_start",
            f"the birth date ({apprenti.dateNaissance}) is not before the contract start ({start}): check both dates",
        )
        return
    age = age_on(apprenti.dateNaissance, start)
    derogation = contrat.typeDerogation
    at_start = f"the apprentice is {age} at the contract start ({start})"
    if age < 15 or (age == 15 and derogation not in UNDER_16_DEROGATIONS):
        yield _problem(
            "apprenti.dateNaissance",
            "apprentice_too_young",
            f"{at_start}; the minimum age is 16, or 15 with derogation 11 or 50 (first cycle of secondary school "
            "completed)",
        )
    if derogation == DEROGATION_UNDER_16 and age >= 16:
        yield _problem(
            "contrat.typeDerogation",
            "derogation_inconsistent",
            f"derogation 11 is for under-16s but {at_start}",
        )
    # the derogation's 35 years are judged on the conclusion date (D6222-1 1°)
    conclusion = contrat.dateConclusion or start
    within_derogation = derogation in OVER_29_DEROGATIONS and age_on(apprenti.dateNaissance, conclusion) <= 35
    if age >= 30 and not age_limit_lifted(apprenti) and not within_derogation:
        yield _problem(
            "apprenti.dateNaissance",
            "apprentice_too_old",
            f"{at_start}; over 29 needs derogation 12 or 50 (up to 35 on the conclusion date), RQTH (handicap), "
            "a high-level athlete registration or a business creation or takeover project",
        )
    if derogation == DEROGATION_OVER_29 and age < 29:
        yield _problem(
            "contrat.typeDerogation",
            "derogation_inconsistent",
            f"derogation 12 is for 29 and over but {at_start}",
        )


def maitre_age(cerfa: Cerfa) -> Iterator[Problem]:
    start = cerfa.contrat.dateDebutContrat if cerfa.contrat else None
    for key, maitre in (("maitre1", cerfa.maitre1), ("maitre2", cerfa.maitre2)):
        if start is None or maitre is None or maitre.dateNaissance is None:
            continue
        age = age_on(maitre.dateNaissance, start)
        if age < 18:
            yield _problem(
                f"{key}.dateNaissance",
                "maitre_too_young",
                f"the apprenticeship master must be 18 at the contract start ({start}) but is {age}",
            )


# --- dates ----------------------------------------------------------------------------------------


def concluded_since_2020(cerfa: Cerfa) -> Iterator[Problem]:
    conclusion = cerfa.contrat.dateConclusion if cerfa.contrat else None
    if conclusion is not None and conclusion < REGIME_START:
        yield _problem(
            "contrat.dateConclusion",
            "concluded_before_2020",
            f"the contract was concluded on {conclusion}; only contracts concluded from 2020-01-01 are handled",
        )


def conclusion_before_start(cerfa: Cerfa) -> Iterator[Problem]:
    contrat = cerfa.contrat
    if not contrat or contrat.typeContratApp not in INITIAL_CONTRACTS:
        return
    conclusion, start = contrat.dateConclusion, contrat.dateDebutContrat
    if conclusion and start and conclusion > start:
        yield _problem(
            "contrat.dateConclusion",
            "conclusion_after_start",
            f"the contract is concluded on {conclusion}, after its start ({start}); "
            "a new contract is signed before it starts",
        )


def practical_training_start(cerfa: Cerfa) -> Iterator[Problem]:
    contrat = cerfa.contrat
    if not contrat or not contrat.dateDebutFormationPratique or not contrat.dateDebutContrat:
        return
    practical, start = contrat.dateDebutFormationPratique, contrat.dateDebutContrat
    limits = [
        (practical < start, f"before the contract start ({start})"),
        (practical > add_months(start, 3), f"more than 3 months after the contract start ({start})"),
        (
            bool(contrat.dateConclusion and practical < contrat.dateConclusion),
            f"before the conclusion ({contrat.dateConclusion})",
        ),
        (
            bool(contrat.dateFinContrat and practical > contrat.dateFinContrat),
            f"after the contract end ({contrat.dateFinContrat})",
        ),
    ]
    for broken, why in limits:
        if broken:
            yield _problem(
                "contrat.dateDebutFormationPratique",
                "practical_training_start",
                f"practical training at the employer starts on {practical}, {why}; "
                "it must start within 3 months of the contract start (L6222-12)",
            )
            return


def cfa_training_start(cerfa: Cerfa) -> Iterator[Problem]:
    training = cerfa.formation.dateDebutFormation if cerfa.formation else None
    start = cerfa.contrat.dateDebutContrat if cerfa.contrat else None
    if training is None or start is None:
        return
    earliest, latest = add_months(start, -3), add_months(start, 3)
    if not earliest <= training <= latest:
        yield _problem(
            "formation.dateDebutFormation",
            "cfa_training_start",
            f"training at the CFA starts on {training}; it must start within 3 months of the contract start "
            f"({start}), between {earliest} and {latest}",
        )


def contract_dates(cerfa: Cerfa) -> Iterator[Problem]:
    contrat = cerfa.contrat
    if not contrat or not contrat.dateDebutContrat or not contrat.dateFinContrat:
        return
    start, end = contrat.dateDebutContrat, contrat.dateFinContrat
    if end < start:
        yield _problem(
            "contrat.dateFinContrat",
            "contract_dates_order",
            f"the contract ends on {end}, before its start ({start})",
        )
        return
    # 3 years, which a duration convention (derogation 21/22) cannot exceed (R6222-6); 4 for an RQTH (L6222-37);
    # one more year after a failed exam (L6222-11)
    years = 4 if cerfa.apprenti and cerfa.apprenti.handicap else 3
    years += contrat.typeContratApp == EXAM_FAILURE_EXTENSION
    longest = min(add_years(start, years), add_months(start, LONGEST_MONTHS)) - timedelta(days=1)
    shortest = add_months(start, 6) - timedelta(days=1)
    if not shortest <= end <= longest:
        yield _problem(
            "contrat.dateFinContrat",
            "contract_duration",
            f"the contract runs from {start} to {end}; it must last from 6 months to {years} years, "
            f"so end between {shortest} and {longest} (3 years even with a derogation 21 or 22, 4 with RQTH, one "
            "more year with an amendment 33 after a failed exam, 4 years and 6 months at most)",
        )


def training_dates(cerfa: Cerfa) -> Iterator[Problem]:
    formation = cerfa.formation
    if not formation or not formation.dateDebutFormation or not formation.dateFinFormation:
        return
    if formation.dateFinFormation <= formation.dateDebutFormation:
        yield _problem(
            "formation.dateFinFormation",
            "training_dates_order",
            f"training ends on {formation.dateFinFormation}, not after its start ({formation.dateDebutFormation})",
        )


def contract_end_vs_training_end(cerfa: Cerfa) -> Iterator[Problem]:
    training_end = cerfa.formation.dateFinFormation if cerfa.formation else None
    end = cerfa.contrat.dateFinContrat if cerfa.contrat else None
    if training_end is None or end is None:
        return
    latest = add_months(training_end, 3)
    if not training_end <= end <= latest:
        yield _problem(
            "contrat.dateFinContrat",
            "contract_end_vs_training_end",
            f"the contract ends on {end}; it must end between the end of training ({training_end}) "
            f"and 3 months after it ({latest})",
        )


def amendment_effect_date(cerfa: Cerfa) -> Iterator[Problem]:
    contrat = cerfa.contrat
    if not contrat:
        return
    effect, start, end = contrat.dateEffetAvenant, contrat.dateDebutContrat, contrat.dateFinContrat
    if effect and start and end and not start <= effect <= end:
        yield _problem(
            "contrat.dateEffetAvenant",
            "amendment_effect_date",
            f"the amendment takes effect on {effect}, outside the contract ({start} to {end})",
        )


# --- working and training time --------------------------------------------------------------------


def weekly_hours(cerfa: Cerfa) -> Iterator[Problem]:
    minutes = _weekly_minutes(cerfa.contrat)
    if minutes is not None and minutes > MAX_WEEKLY_MINUTES:
        yield _problem(
            "contrat.dureeTravailHebdoHeures",
            "weekly_hours",
            f"weekly working time is {_duration(minutes)}; the maximum is 40 h",
        )


def _weekly_minutes(contrat: Contrat | None) -> int | None:
    if contrat is None or contrat.dureeTravailHebdoHeures is None:
        return None
    return contrat.dureeTravailHebdoHeures * 60 + (contrat.dureeTravailHebdoMinutes or 0)


def training_hours(cerfa: Cerfa) -> Iterator[Problem]:
    """At least 25 % of the contract's working time (L6211-2), on the legal 1,607 h a year; an RQTH or a
    high-level athlete may have the base adjusted (contract app's help text), so theirs are not judged here."""
    hours = cerfa.formation.dureeFormation if cerfa.formation else None
    contrat, apprenti = cerfa.contrat, cerfa.apprenti
    if hours is None or not contrat or not contrat.dateDebutContrat or not contrat.dateFinContrat:
        return
    if apprenti and (apprenti.handicap or apprenti.inscriptionSportifDeHautNiveau):
        return
    if contrat.dateFinContrat < contrat.dateDebutContrat:
        return
    days = inclusive_days(contrat.dateDebutContrat, contrat.dateFinContrat)
    working = Decimal(ANNUAL_WORKING_HOURS * days) / 365
    if hours * 4 < working:
        yield _problem(
            "formation.dureeFormation",
            "training_hours",
            f"{hours} h of training is {100 * hours / working:.1f} % of the contract's working time "
            f"({working:.1f} h: 1,607 h a year over {days} days); the minimum is 25 % ({working / 4:.1f} h)",
        )


# --- pay ------------------------------------------------------------------------------------------


def period_rates(cerfa: Cerfa) -> Iterator[Problem]:
    birth = cerfa.apprenti.dateNaissance if cerfa.apprenti else None
    contrat = cerfa.contrat
    if birth is None or not contrat or not contrat.dateDebutContrat:
        return
    for index, period in enumerate(contrat.remunerationsAnnuelles or []):
        problem = _period_problem(index, period, birth, contrat.dateDebutContrat)
        if problem is not None:
            yield problem


def _period_problem(index: int, period: RemunerationAnnuelle, birth: date, start: date) -> Problem | None:
    """A period is judged on its last day: the age bracket and the contract year only rise, so that is the
    highest minimum it reaches."""
    if period.taux is None or period.dateFin is None:
        return None
    last_day = max(period.dateFin, start)
    age, year = bracket_age(birth, last_day), contract_year(start, last_day)
    minimum = minimum_rate(age, year)
    if period.taux >= minimum:
        return None
    return _problem(
        f"contrat.remunerationsAnnuelles.{index}.taux",
        "remuneration_below_minimum",
        f"period {period.ordre or index + 1} (to {period.dateFin}) pays {period.taux} %; "
        f"the legal minimum is {minimum} % (age bracket of {age}, contract year {year})",
    )


def salary_at_hiring(cerfa: Cerfa) -> Iterator[Problem]:
    birth = cerfa.apprenti.dateNaissance if cerfa.apprenti else None
    contrat = cerfa.contrat
    if birth is None or not contrat or not contrat.dateDebutContrat or contrat.salaireEmbauche is None:
        return
    start = contrat.dateDebutContrat
    smic = smic_on(start, mayotte=works_in_mayotte(cerfa))
    if smic is None:
        return
    age = bracket_age(birth, start)
    rate = minimum_rate(age, 1)
    base_name, base = ("SMC", contrat.smc) if age >= 21 and contrat.smc and contrat.smc > smic else ("SMIC", smic)
    minutes = _weekly_minutes(contrat)
    minimum = minimum_monthly_pay(rate, base, minutes)
    if contrat.salaireEmbauche < minimum:
        part_time = minutes is not None and minutes < 35 * 60
        prorated = f", prorated to {_duration(minutes)} a week" if part_time and minutes is not None else ""
        yield _problem(
            "contrat.salaireEmbauche",
            "remuneration_below_minimum",
            f"the gross monthly salary at hiring is {contrat.salaireEmbauche} €; the legal minimum is "
            f"{minimum} € ({rate} % of the {base_name} of {base} € in force on {start}{prorated})",
        )


def _duration(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d}"


RULES: Final[tuple[Rule, ...]] = (
    concluded_since_2020,
    apprentice_age,
    maitre_age,
    conclusion_before_start,
    practical_training_start,
    cfa_training_start,
    contract_dates,
    training_dates,
    contract_end_vs_training_end,
    amendment_effect_date,
    weekly_hours,
    training_hours,
    period_rates,
    salary_at_hiring,
    *rules_people.RULES,
    *rules_training.RULES,
    *rules_pay.RULES,
)
