"""A contract's funding, as the CFA sees it: the schedule the rules give (domain.funding), side by side with the
OPCO's échéancier and with what was invoiced and paid on each échéance.

The NPEC is the CFA's forecast (`npecForecast`): the OPCO's échéancier carries amounts, not the NPEC it applied."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.cerfa import Cerfa
from domain.contracts.contract import Contract
from domain.funding import compare, comparison_totals, funding_schedule
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.ledger import paid, reserved, used
from domain.ruptures.rupture_funding import cerfa_terms, rupture_funding, terms_of


def funding(contract: Contract, cerfa: Cerfa | None = None) -> dict[str, Any]:
    """`cerfa`: the contract as its accepted avenants leave it (application.amendments), else its own."""
    terms, missing = cerfa_terms(cerfa, contract.npec_forecast) if cerfa is not None else terms_of(contract)
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
        **_rupture(contract),
    }


def _annex(contract: Contract, record: dict[str, Any]) -> dict[str, Any]:
    kind = record.get("kind")
    invoiced = used(contract.invoices, InvoiceKind(kind)) if kind else Decimal("0.00")
    return {**record, "invoiced": str(invoiced)}


def _booked_numeros(contract: Contract) -> set[int]:
    return {int(line["numeroEcheance"]) for entry in contract.invoices.values() for line in entry["lines"]}


def _rupture(contract: Contract) -> dict[str, Any]:
    """After a rupture: the funding prorated to it, and the traineeship (L6222-18-2) the CFA recorded."""
    if contract.rupture is None:
        return {}
    effect = rupture_funding(contract)
    return {"rupture": effect.as_record() if effect else None, "traineeship": contract.traineeship}
