"""Consistency rules about pay beyond the legal rates (those are in `rules.py`): the base a rate applies to,
and the benefits in kind. Sources in docs/cerfa-rules.md."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Final

from domain.cerfa.facts import works_in_mayotte
from domain.cerfa.model import Cerfa
from domain.cerfa.remuneration import bracket_age, smic_on
from domain.problems import Problem

SMC_AGE: Final = 21


def _problem(path: str, code: str, message: str) -> Problem:
    return Problem(f"cerfa.{path}", code, message)


def smc_base(cerfa: Cerfa) -> Iterator[Problem]:
    """From 21, the minimum is a % of the collective agreement's minimum wage (SMC) when it is higher than the
    SMIC (D6222-26 al. 2): a period that reaches 21 must then be a % of the SMC, as the contract app sets it."""
    apprenti, contrat = cerfa.apprenti, cerfa.contrat
    if apprenti is None or contrat is None or apprenti.dateNaissance is None or contrat.dateDebutContrat is None:
        return
    smic = smic_on(contrat.dateDebutContrat, mayotte=works_in_mayotte(cerfa))
    if contrat.smc is None or smic is None or contrat.smc <= smic:
        return
    for index, period in enumerate(contrat.remunerationsAnnuelles or []):
        if period.typeSalaire != "SMIC" or period.dateFin is None:
            continue
        last_day = max(period.dateFin, contrat.dateDebutContrat)
        if _bracket_age(apprenti.dateNaissance, last_day) >= SMC_AGE:
            yield _problem(
                f"contrat.remunerationsAnnuelles.{index}.typeSalaire",
                "smc_base_required",
                f"period {period.ordre or index + 1} (to {period.dateFin}) reaches the apprentice's 21 years: "
                f"its rate applies to the SMC ({contrat.smc} €), higher than the SMIC ({smic} €)",
            )


def _bracket_age(birth: date, day: date) -> int:
    if birth > day:
        return -1
    try:
        return bracket_age(birth, day)
    except (ValueError, OverflowError):  # a birthday in December 9999: past the calendar
        return -1


def benefits_in_kind(cerfa: Cerfa) -> Iterator[Problem]:
    contrat = cerfa.contrat
    if contrat is None or contrat.avantageNature is not False:
        return
    given = [
        name
        for name, value in (
            ("avantageNourriture", contrat.avantageNourriture),
            ("avantageLogement", contrat.avantageLogement),
            ("autreAvantageEnNature", contrat.autreAvantageEnNature or None),
        )
        if value is not None
    ]
    if given:
        yield _problem(
            "contrat.avantageNature",
            "benefits_in_kind_inconsistent",
            f"the contract states no benefit in kind but gives {', '.join(given)}",
        )


RULES: Final = (smc_base, benefits_in_kind)
