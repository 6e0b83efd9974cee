"""Consistency rules about the training at the CFA: its own length, and where its dates may fall against the
contract's (the contract app's `dateFormation.control.ts` and `ContratDates.control.ts`). Sources in
docs/cerfa-rules.md."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Final

from domain.cerfa.dates import add_months
from domain.cerfa.model import Cerfa
from domain.problems import Problem

INITIAL_CONTRACTS: Final = frozenset({11, 21, 22, 23})
# 7: in training at the CFA before any contract (L6222-12-1); 8: still in training after a rupture (L6231-2 5°)
ALREADY_IN_TRAINING: Final = frozenset({7, 8})
SHORTEST_MONTHS: Final = 6
LONGEST_MONTHS: Final = 48


def _problem(path: str, code: str, message: str) -> Problem:
    return Problem(f"cerfa.{path}", code, message)


def _shifted(day: date, months: int, days: int = 0) -> date | None:
    """`day` moved by `months` then `days`; None past the calendar's ends (year 1 or 9999)."""
    try:
        return add_months(day, months) + timedelta(days=days)
    except (ValueError, OverflowError):
        return None


def training_duration(cerfa: Cerfa) -> Iterator[Problem]:
    formation = cerfa.formation
    if formation is None or formation.dateDebutFormation is None or formation.dateFinFormation is None:
        return
    start, end = formation.dateDebutFormation, formation.dateFinFormation
    if end <= start:
        return  # training_dates_order says it
    shortest, longest = _shifted(start, SHORTEST_MONTHS, -1), _shifted(start, LONGEST_MONTHS, -1)
    if (shortest is not None and end < shortest) or (longest is not None and end > longest):
        yield _problem(
            "formation.dateFinFormation",
            "training_duration",
            f"training runs from {start} to {end}; a training cycle lasts from 6 months to 4 years, "
            f"so it ends between {shortest} and {longest}",
        )


def cfa_start_vs_practical_start(cerfa: Cerfa) -> Iterator[Problem]:
    training = cerfa.formation.dateDebutFormation if cerfa.formation else None
    practical = cerfa.contrat.dateDebutFormationPratique if cerfa.contrat else None
    if training is None or practical is None:
        return
    earliest = _shifted(practical, -3)
    if earliest is not None and training < earliest:
        yield _problem(
            "formation.dateDebutFormation",
            "cfa_training_vs_practical_start",
            f"training at the CFA starts on {training}, more than 3 months before the practical training at "
            f"the employer ({practical}): it starts on {earliest} at the earliest",
        )


def cfa_start_vs_conclusion(cerfa: Cerfa) -> Iterator[Problem]:
    """A new contract's training starts once it is signed, unless the apprentice was already in training at the
    CFA without a contract (situations 7 and 8)."""
    formation, contrat, apprenti = cerfa.formation, cerfa.contrat, cerfa.apprenti
    if formation is None or contrat is None or contrat.typeContratApp not in INITIAL_CONTRACTS:
        return
    if apprenti is not None and apprenti.situationAvantContrat in ALREADY_IN_TRAINING:
        return
    training, conclusion = formation.dateDebutFormation, contrat.dateConclusion
    if training is not None and conclusion is not None and training < conclusion:
        yield _problem(
            "formation.dateDebutFormation",
            "cfa_training_before_conclusion",
            f"training at the CFA starts on {training}, before the contract is concluded ({conclusion}); "
            "only an apprentice already in training without a contract (situation 7 or 8) starts before",
        )


def training_end_vs_contract_start(cerfa: Cerfa) -> Iterator[Problem]:
    training_end = cerfa.formation.dateFinFormation if cerfa.formation else None
    start = cerfa.contrat.dateDebutContrat if cerfa.contrat else None
    if training_end is not None and start is not None and training_end < start:
        yield _problem(
            "formation.dateFinFormation",
            "training_end_before_contract_start",
            f"training ends on {training_end}, before the contract starts ({start})",
        )


RULES: Final = (
    training_duration,
    cfa_start_vs_practical_start,
    cfa_start_vs_conclusion,
    training_end_vs_contract_start,
)
