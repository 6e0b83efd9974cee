"""A contract's funding, as the CFA sees it: the schedule the rules give (domain.funding), side by side with the
OPCO's échéancier and with what was invoiced and paid on each échéance.

The NPEC is the CFA's forecast (`npecForecast`): the OPCO's échéancier carries amounts, not the NPEC it applied."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.cerfa import Cerfa
from domain.contract import Contract
from domain.funding import FundingTerms, FundingTermsInvalid, compare, comparison_totals, funding_schedule
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.ledger import paid, reserved, used
from domain.money import euros

# The Cerfa's diploma codes are grouped by level: 3x CAP/BEP (3), 4x bac (4), 5x bac+2 (5), 6x bac+3/4 (6),
# 7x bac+5 (7), 80 doctorate (8); 1x and 2x are "no diploma" and have no level. Read off the Cerfa's list.
LEVELS = range(3, 9)
DISTANCE_SHARE = 0.8  # ≥ 80 % of the training hours remote: the 2025 minoration applies


def funding(contract: Contract) -> dict[str, Any]:
    terms, missing = _terms(contract)
    schedule = funding_schedule(terms) if terms is not None else None
    numeros = {int(e["numero"]) for e in contract.echeances} | _booked_numeros(contract)
    rows = compare(
        schedule,
        contract.echeances,
        {n: reserved(contract.invoices, n) for n in numeros},
        {n: paid(contract.invoices, n) for n in numeros},
    )
    totals = comparison_totals(rows)
    return {
        "contractId": str(contract.id),
        "npec": contract.npec_forecast,
        "npecSource": "forecast" if contract.npec_forecast else None,
        "opcoCommitment": contract.commitment,
        "fraisAnnexes": [_annex(contract, record) for record in contract.frais_annexes],
        "schedule": schedule.as_record() if schedule else None,
        "scheduleMissing": missing,
        "echeances": [row.as_record() for row in rows],
        "totals": totals.as_record(),
        "differs": totals.differing > 0,
    }


def _annex(contract: Contract, record: dict[str, Any]) -> dict[str, Any]:
    kind = record.get("kind")
    invoiced = used(contract.invoices, InvoiceKind(kind)) if kind else Decimal("0.00")
    return {**record, "invoiced": str(invoiced)}


def _terms(contract: Contract) -> tuple[FundingTerms | None, list[dict[str, str]]]:
    cerfa = contract.cerfa_model
    contrat = cerfa.contrat
    concluded, start, end = (
        (contrat.dateConclusion, contrat.dateDebutContrat, contrat.dateFinContrat) if contrat else (None, None, None)
    )
    needed = {
        "cerfa.contrat.dateConclusion": concluded,
        "cerfa.contrat.dateDebutContrat": start,
        "cerfa.contrat.dateFinContrat": end,
        "npec": contract.npec_forecast,
    }
    missing = [
        {"field": field, "code": "required", "message": f"{field} is needed to compute the funding schedule"}
        for field, value in needed.items()
        if value is None
    ]
    if concluded is None or start is None or end is None or contract.npec_forecast is None:
        return None, missing
    try:
        terms = FundingTerms(
            concluded_on=concluded,
            start=start,
            end=end,
            npec=euros(contract.npec_forecast),
            level=_level(cerfa),
            distance_learning=_mostly_remote(cerfa),
            rqth=bool(cerfa.apprenti and cerfa.apprenti.handicap),
        )
    except FundingTermsInvalid as invalid:
        return None, [invalid.problem.as_dict()]
    return terms, []


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


def _booked_numeros(contract: Contract) -> set[int]:
    return {int(line["numeroEcheance"]) for entry in contract.invoices.values() for line in entry["lines"]}
