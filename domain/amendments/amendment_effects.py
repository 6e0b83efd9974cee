"""What an avenant does beyond its own fields (docs/funding.md, "Avenants"): the funding schedule recomputed and the
échéances to re-check, where it changes the funding; another OPCO, where it changes the employer. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.amendments.amendment_types import AmendmentType
from domain.cerfa import Cerfa
from domain.contracts.cerfa_document import employer_idcc
from domain.funding import FundingSchedule, funding_schedule
from domain.funding.instalments import Instalment
from domain.opco.opcos import IdccRouting
from domain.ruptures.rupture_funding import cerfa_terms


def changes_funding(kind: AmendmentType, before: Cerfa, after: Cerfa) -> bool:
    """33, 34, 35 always; 36 when the contract's duration changes (its end, or its start); the others never
    (opco-wire.md §2.4: 32, 36 for the maître or the hours, 37 and 38 leave the amounts as they are)."""
    if kind.changes_funding:
        return True
    if kind.code != 36:
        return False
    b, a = before.contrat, after.contrat
    return (b.dateDebutContrat, b.dateFinContrat) != (a.dateDebutContrat, a.dateFinContrat) if b and a else False


@dataclass(frozen=True, slots=True)
class FundingEffect:
    before: FundingSchedule | None  # None when the funding terms are incomplete (no NPEC forecast, no dates)
    after: FundingSchedule | None
    missing: tuple[dict[str, str], ...]  # what kept the schedules from being computed
    to_recheck: tuple[int, ...]  # numeros of the échéances whose amount or opening the avenant changes (or adds)

    def as_record(self) -> dict[str, Any]:
        return {
            "recomputed": self.after is not None,
            "missing": list(self.missing),
            "before": self.before.as_record() if self.before else None,
            "after": self.after.as_record() if self.after else None,
            "echeancesToRecheck": list(self.to_recheck),
        }


def funding_effect(
    before: Cerfa, after: Cerfa, npec: str | None, opco_echeances: Sequence[Mapping[str, Any]]
) -> FundingEffect:
    """The schedules before and after, and the échéances to re-check: those of the schedule whose amount, deduction
    or opening differ, or that only one of them has; without schedules, every échéance of the OPCO's échéancier."""
    before_terms, _ = cerfa_terms(before, npec)
    after_terms, missing = cerfa_terms(after, npec)
    if before_terms is None or after_terms is None:
        numeros = tuple(sorted(int(e["numero"]) for e in opco_echeances if "numero" in e))
        return FundingEffect(None, None, tuple(missing), numeros)
    old, new = funding_schedule(before_terms), funding_schedule(after_terms)
    return FundingEffect(old, new, (), _differing(old.instalments, new.instalments))


def _differing(old: Sequence[Instalment], new: Sequence[Instalment]) -> tuple[int, ...]:
    by_numero = {i.numero: i for i in old}
    seen = {i.numero: i for i in new}
    changed = {n for n in by_numero.keys() | seen.keys() if _shown(by_numero.get(n)) != _shown(seen.get(n))}
    return tuple(sorted(changed))


def _shown(instalment: Instalment | None) -> tuple[Any, ...] | None:
    if instalment is None:
        return None
    return instalment.amount, instalment.deduction, instalment.opens_on


@dataclass(frozen=True, slots=True)
class OpcoChange:
    current: str  # the OPCO that has the contract
    routed: str | None  # the OPCO the amended employer's IDCC routes to; None: the table names none

    def as_record(self) -> dict[str, Any]:
        return {"from": self.current, "to": self.routed}


def opco_change(
    kind: AmendmentType, before: Cerfa, after: Cerfa, current: str, routing: IdccRouting
) -> OpcoChange | None:
    """An avenant that may change the employer (31, 32, 37) and after which the employer's IDCC routes to another
    OPCO than before (or to none), other than the one that has the contract: the contract's funding may pass to
    another OPCO. Flagged for a person, never acted on by itself."""
    if not kind.may_change_employer:
        return None
    was, now = routing.opco_for(employer_idcc(before)), routing.opco_for(employer_idcc(after))
    if was == now or (now is not None and now.value == current):
        return None
    return OpcoChange(current, now.value if now else None)
