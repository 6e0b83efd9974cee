"""What a rupture does to a contract's funding (docs/funding.md, "Ruptures"): the funding prorated to the rupture,
the employer's participation, the deadline of the last invoice and attestation, and the traineeship that may
follow. Pure: reads the contract, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.cerfa import Cerfa
from domain.contracts.contract import Contract
from domain.funding import FundingSchedule, FundingTerms, FundingTermsInvalid, funding_schedule, regime_of
from domain.funding.dates import months_later
from domain.funding.instalments import PROOF_DEADLINE_MONTHS
from domain.funding.schedule import EMPLOYER_PARTICIPATION, owes_participation
from domain.money import euros, money, money_text

# The Cerfa's diploma codes are grouped by level: 3x CAP/BEP (3), 4x bac (4), 5x bac+2 (5), 6x bac+3/4 (6),
# 7x bac+5 (7), 80 doctorate (8); 1x and 2x are "no diploma" and have no level. Read off the Cerfa's list.
LEVELS = range(3, 9)
DISTANCE_SHARE = 0.8  # ≥ 80 % of the training hours remote: the 2025 minoration applies
PROBATION_PARTICIPATION_RATE = Decimal("0.50")  # R6332-25-2: 50 % of the NPEC prorated on the days performed


@dataclass(frozen=True, slots=True)
class RuptureFunding:
    rupture_date: date
    inside_probation: bool
    schedule: FundingSchedule  # the schedule of the contract cut at the rupture
    participation: Decimal  # the employer's, as the rupture leaves it
    last_invoice_by: date  # the last invoice and the attestation, 4 months after the effective end

    @property
    def ceiling(self) -> Decimal:
        """The most the OPCO pays on the pedagogical cost: the prorated total, less the employer's participation."""
        return self.schedule.payable

    def as_record(self) -> dict[str, Any]:
        return {
            "dateEffetRupture": self.rupture_date.isoformat(),
            "pendantPeriodeProbatoire": self.inside_probation,
            "proratedTotal": money_text(self.schedule.total),
            "employerParticipation": money_text(self.participation),
            "payable": money_text(self.ceiling),
            "lastInvoiceBy": self.last_invoice_by.isoformat(),
            "schedule": self.schedule.as_record(),
        }


def terms_of(contract: Contract) -> tuple[FundingTerms | None, list[dict[str, str]]]:
    """The funding terms the contract's Cerfa and NPEC forecast give, or the problems that keep them unknown."""
    return cerfa_terms(contract.cerfa_model, contract.npec_forecast)


def cerfa_terms(cerfa: Cerfa, npec: str | None) -> tuple[FundingTerms | None, list[dict[str, str]]]:
    """The funding terms of a Cerfa (a contract's, or one amended) with an annual NPEC, or what keeps them unknown."""
    contrat = cerfa.contrat
    concluded, start, end = (
        (contrat.dateConclusion, contrat.dateDebutContrat, contrat.dateFinContrat) if contrat else (None, None, None)
    )
    needed = {
        "cerfa.contrat.dateConclusion": concluded,
        "cerfa.contrat.dateDebutContrat": start,
        "cerfa.contrat.dateFinContrat": end,
        "npec": npec,
    }
    missing = [
        {"field": field, "code": "required", "message": f"{field} is needed to compute the funding schedule"}
        for field, value in needed.items()
        if value is None
    ]
    if concluded is None or start is None or end is None or npec is None:
        return None, missing
    try:
        terms = FundingTerms(
            concluded_on=concluded,
            start=start,
            end=end,
            npec=euros(npec),
            level=_level(cerfa),
            distance_learning=_mostly_remote(cerfa),
            rqth=bool(cerfa.apprenti and cerfa.apprenti.handicap),
        )
    except FundingTermsInvalid as invalid:
        return None, [invalid.problem.as_dict()]
    return terms, []


def funding_at_rupture(terms: FundingTerms, rupture_date: date, inside_probation: bool) -> RuptureFunding:
    """The funding of a contract broken on `rupture_date` (its last day): every year prorated to it, by day for a
    contract concluded from 2025-07-01, by started month before; the participation at min(750 €, 50 % of that
    prorated NPEC) inside the probatory period, whole after."""
    cut = FundingTerms(
        concluded_on=terms.concluded_on,
        start=terms.start,
        end=min(terms.end, rupture_date),
        npec=terms.npec,
        level=terms.level,
        distance_learning=terms.distance_learning,
        rqth=terms.rqth,
    )
    prorated = funding_schedule(cut)
    participation = Decimal("0.00")
    if owes_participation(cut, regime_of(cut.concluded_on)):
        participation = EMPLOYER_PARTICIPATION
        if inside_probation:
            participation = min(EMPLOYER_PARTICIPATION, money(prorated.total * PROBATION_PARTICIPATION_RATE))
        prorated = funding_schedule(cut, participation)
    return RuptureFunding(
        rupture_date=rupture_date,
        inside_probation=inside_probation,
        schedule=prorated,
        participation=participation,
        last_invoice_by=months_later(rupture_date, PROOF_DEADLINE_MONTHS),
    )


def rupture_funding(contract: Contract) -> RuptureFunding | None:
    """The rupture's effect on this contract's funding; None without a rupture or without funding terms."""
    if contract.rupture is None:
        return None
    terms, _ = terms_of(contract)
    if terms is None:
        return None
    return funding_at_rupture(
        terms, _rupture_date(contract.rupture), bool(contract.rupture["pendantPeriodeProbatoire"])
    )


def last_invoice_by(contract: Contract) -> date | None:
    """4 months after the effective end (the rupture's date); known with or without funding terms."""
    if contract.rupture is None:
        return None
    return months_later(_rupture_date(contract.rupture), PROOF_DEADLINE_MONTHS)


def _rupture_date(rupture: dict[str, Any]) -> date:
    return date.fromisoformat(rupture["dateEffetRupture"])


def _level(cerfa: Cerfa) -> int | None:
    code = cerfa.formation.typeDiplome if cerfa.formation else None
    if code is None:
        return None
    return code // 10 if code // 10 in LEVELS else None


def _mostly_remote(cerfa: Cerfa) -> bool:
    formation = cerfa.formation
    if formation is None or not formation.dureeFormation or formation.nombreHeuresEnDistanciel is None:
        return False
    return formation.nombreHeuresEnDistanciel >= DISTANCE_SHARE * formation.dureeFormation
