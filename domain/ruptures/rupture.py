"""The rules of a rupture (early termination) of an apprenticeship contract: its legal causes, who may take it, the
probatory period, and the checks a declaration must pass (../shared/reference/opco-wire.md §1.3,
apprenticeship-rules.md §5). Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from domain.errors import InvalidValues
from domain.funding.dates import months_later
from domain.problems import Problem

E = TypeVar("E", bound=StrEnum)
PROBATION_DAYS = 45  # L6222-18 al.1: the first 45 days, consecutive or not, of practical training in the company
MAX_COMMENT = 1000
TRAINEE_MONTHS = 6  # L6222-18-2: the apprentice may go on at the CFA as a trainee for up to six months


class Initiative(StrEnum):
    EMPLOYEUR = "employeur"
    APPRENTI = "apprenti"
    COMMUN = "commun"  # both parties (commun accord)
    TIERS = "tiers"  # the liquidator, the labour inspection


class Motif(StrEnum):
    """Our own codes: no official code list was found (opco-wire.md §1.3); mapped per OPCO once its wire is seen."""

    PERIODE_PROBATOIRE = "periode_probatoire"
    COMMUN_ACCORD = "commun_accord"
    FORCE_MAJEURE = "force_majeure"
    FAUTE_GRAVE = "faute_grave"
    INAPTITUDE = "inaptitude"
    DECES_EMPLOYEUR_MAITRE = "deces_employeur_maitre"
    EXCLUSION_CFA = "exclusion_cfa"
    DEMISSION = "demission"
    OBTENTION_DIPLOME = "obtention_diplome"
    LIQUIDATION_JUDICIAIRE = "liquidation_judiciaire"
    DECISION_ADMINISTRATIVE = "decision_administrative"


@dataclass(frozen=True, slots=True)
class MotifRule:
    article: str
    label: str
    initiatives: frozenset[Initiative]


_EITHER = frozenset({Initiative.EMPLOYEUR, Initiative.APPRENTI})
_EMPLOYER = frozenset({Initiative.EMPLOYEUR})
MOTIFS: dict[Motif, MotifRule] = {
    Motif.PERIODE_PROBATOIRE: MotifRule("L6222-18 al.1, R6222-21", "rupture pendant la période probatoire", _EITHER),
    Motif.COMMUN_ACCORD: MotifRule("L6222-18 al.2", "commun accord écrit des parties", frozenset({Initiative.COMMUN})),
    Motif.FORCE_MAJEURE: MotifRule("L6222-18 al.3", "licenciement pour force majeure", _EMPLOYER),
    Motif.FAUTE_GRAVE: MotifRule("L6222-18 al.3", "licenciement pour faute grave", _EMPLOYER),
    Motif.INAPTITUDE: MotifRule("L6222-18 al.3", "licenciement pour inaptitude", _EMPLOYER),
    Motif.DECES_EMPLOYEUR_MAITRE: MotifRule(
        "L6222-18 al.3", "décès de l'employeur maître d'apprentissage (entreprise unipersonnelle)", _EMPLOYER
    ),
    Motif.EXCLUSION_CFA: MotifRule("L6222-18-1", "exclusion définitive de l'apprenti du CFA", _EMPLOYER),
    Motif.DEMISSION: MotifRule("L6222-18, D6222-21-1", "démission de l'apprenti", frozenset({Initiative.APPRENTI})),
    Motif.OBTENTION_DIPLOME: MotifRule(
        "L6222-19, R6222-23", "obtention du diplôme ou titre préparé", frozenset({Initiative.APPRENTI})
    ),
    Motif.LIQUIDATION_JUDICIAIRE: MotifRule("L6222-18", "liquidation judiciaire", frozenset({Initiative.TIERS})),
    Motif.DECISION_ADMINISTRATIVE: MotifRule(
        "L6225-4 s.", "suspension ou opposition administrative", frozenset({Initiative.TIERS})
    ),
}


@dataclass(frozen=True, slots=True)
class Probation:
    """The probatory period as computed from the Cerfa: from the start of practical training in the company (else
    the contract's start), 45 calendar days — the earliest it can end. Days at the CFA and justified absences push
    the real end later; the CFA may state that end (`finPeriodeProbatoire`), which then wins."""

    start: date
    end: date
    stated: bool  # the end was stated by the CFA rather than computed

    def holds(self, day: date) -> bool:
        """A rupture before the practical training starts is within the free period too (DECA's
        `rupture_avant_debut`)."""
        return day <= self.end

    def as_record(self) -> dict[str, Any]:
        return {
            "debut": self.start.isoformat(),
            "fin": self.end.isoformat(),
            "source": "stated" if self.stated else "computed",
        }


def probation(practical_start: date, stated_end: date | None = None) -> Probation:
    if stated_end is not None:
        return Probation(practical_start, stated_end, stated=True)
    return Probation(practical_start, practical_start + timedelta(days=PROBATION_DAYS - 1), stated=False)


@dataclass(frozen=True, slots=True)
class ContractDates:
    start: date  # dateDebutContrat
    end: date  # dateFinContrat
    practical_start: date  # dateDebutFormationPratique, else dateDebutContrat


@dataclass(frozen=True, slots=True)
class RuptureRequest:
    date_effet: date | None
    motif: str | None
    initiative: str | None
    date_signalement: date | None
    commentaire: str | None = None
    fin_periode_probatoire: date | None = None


@dataclass(frozen=True, slots=True)
class RuptureFacts:
    """A checked rupture, as the contract records it."""

    date_effet: date
    motif: Motif
    initiative: Initiative
    date_signalement: date
    commentaire: str | None
    probation: Probation

    @property
    def inside_probation(self) -> bool:
        return self.probation.holds(self.date_effet)

    def as_record(self) -> dict[str, Any]:
        rule = MOTIFS[self.motif]
        return {
            "dateEffetRupture": self.date_effet.isoformat(),
            "motif": self.motif.value,
            "article": rule.article,
            "libelle": rule.label,
            "initiative": self.initiative.value,
            "dateSignalement": self.date_signalement.isoformat(),
            "commentaire": self.commentaire,
            "periodeProbatoire": self.probation.as_record(),
            "pendantPeriodeProbatoire": self.inside_probation,
        }


def check_rupture(request: RuptureRequest, dates: ContractDates, today: date) -> RuptureFacts:
    """The rupture as recorded, or InvalidValues naming every field and the rule it breaks."""
    problems: list[Problem] = []
    motif = _enum(Motif, request.motif, "motif", problems)
    initiative = _enum(Initiative, request.initiative, "initiative", problems)
    effet = request.date_effet
    if effet is None:
        problems.append(Problem("dateEffetRupture", "required", "the rupture's effective date is required"))
    elif not dates.start <= effet <= dates.end:
        problems.append(
            Problem(
                "dateEffetRupture",
                "outside_contract",
                f"the rupture takes effect within the contract ({dates.start} – {dates.end}), not on {effet}",
            )
        )
    signalement = request.date_signalement or today
    if signalement > today:
        problems.append(
            Problem("dateSignalement", "in_future", f"the rupture cannot be reported after today ({today})")
        )
    stated = request.fin_periode_probatoire
    if stated is not None and stated < dates.practical_start:
        problems.append(
            Problem("finPeriodeProbatoire", "before_practical_start", "the probatory period ends after it starts")
        )
    if request.commentaire is not None and len(request.commentaire) > MAX_COMMENT:
        problems.append(Problem("commentaire", "too_long", f"at most {MAX_COMMENT} characters"))
    period = probation(dates.practical_start, stated)
    if motif is not None and initiative is not None and initiative not in MOTIFS[motif].initiatives:
        allowed = ", ".join(sorted(MOTIFS[motif].initiatives))
        problems.append(Problem("initiative", "initiative_not_for_motif", f"a {motif} rupture is taken by: {allowed}"))
    within = effet is not None and dates.start <= effet <= dates.end
    if motif is Motif.PERIODE_PROBATOIRE and within and effet is not None and not period.holds(effet):
        problems.append(
            Problem(
                "motif",
                "after_probation",
                f"the probatory period ends on {period.end} ({period.as_record()['source']}); state"
                " finPeriodeProbatoire if days at the CFA or absences pushed it later",
            )
        )
    if problems:
        raise InvalidValues(problems)
    assert motif is not None
    assert initiative is not None
    assert effet is not None
    return RuptureFacts(effet, motif, initiative, signalement, request.commentaire, period)


def _enum(kind: type[E], value: str | None, field: str, problems: list[Problem]) -> E | None:
    if value is None:
        problems.append(Problem(field, "required", f"{field} is required"))
        return None
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        problems.append(Problem(field, f"unknown_{field}", f"{value!r} is not one of: {known}"))
        return None


def contract_dates(start: date | None, end: date | None, practical_start: date | None) -> ContractDates | None:
    """The Cerfa's dates a rupture is checked against; None when the contract's start or end is missing."""
    if start is None or end is None:
        return None
    return ContractDates(start, end, practical_start or start)


def check_traineeship(rupture: date, start: date, end: date) -> None:
    """L6222-18-2: after the rupture, at the CFA, for at most six months (a deadline: same day, else month's end)."""
    problems: list[Problem] = []
    if start <= rupture:
        problems.append(Problem("debut", "not_after_rupture", f"the traineeship starts after the rupture ({rupture})"))
    if end < start:
        problems.append(Problem("fin", "before_start", "the traineeship ends after it starts"))
    limit = months_later(rupture, TRAINEE_MONTHS)
    if end > limit:
        problems.append(Problem("fin", "over_six_months", f"a trainee stays at most six months: until {limit}"))
    if problems:
        raise InvalidValues(problems)
