"""The invoicing rules a rupture adds (docs/funding.md, "Ruptures"): an échéance opening after the rupture is closed,
and the pedagogical cost invoiced on a broken contract stays within the funding prorated to the rupture."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from uuid import UUID

from domain.contracts.contract import Contract
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.ledger import used
from domain.invoicing.lines import LineRequest
from domain.problems import Problem
from domain.ruptures.rupture_funding import rupture_funding


def rupture_problems(
    requests: Sequence[LineRequest], contracts: Mapping[UUID, Contract]
) -> tuple[list[Problem], list[Problem]]:
    """(invalid values, conflicts) the rupture of the invoiced contracts gives."""
    invalid: list[Problem] = []
    conflicts: list[Problem] = []
    asked: dict[UUID, tuple[Decimal, int]] = {}
    for index, request in enumerate(requests):
        contract = contracts.get(request.contract_id)
        if contract is None or contract.rupture_date is None:
            continue
        opens = _opening(contract, request.numero_echeance)
        if opens is not None and opens > contract.rupture_date:
            conflicts.append(
                Problem(
                    f"lines.{index}.numeroEcheance",
                    "echeance_after_rupture",
                    f"échéance {request.numero_echeance} of contract {contract.numero_interne} opens on {opens}, after"
                    f" the rupture ({contract.rupture_date}): it is closed",
                )
            )
        if request.kind is InvoiceKind.PEDAGOGIE:
            total, first = asked.get(contract.id, (Decimal("0"), index))
            asked[contract.id] = (total + request.amount, first)
    for ident, (amount, index) in asked.items():
        problem = _beyond_prorated(contracts[ident], amount, index)
        if problem is not None:
            invalid.append(problem)
    return invalid, conflicts


def _beyond_prorated(contract: Contract, amount: Decimal, index: int) -> Problem | None:
    effect = rupture_funding(contract)
    if effect is None:
        return None  # no NPEC forecast: the OPCO's recomputed échéancier is the only limit
    already = used(contract.invoices, InvoiceKind.PEDAGOGIE)
    if already + amount <= effect.ceiling:
        return None
    return Problem(
        f"lines.{index}.amount",
        "beyond_prorated_funding",
        f"contract {contract.numero_interne} was broken on {effect.rupture_date}: its funding prorated to the rupture"
        f" is {effect.ceiling} € (after the employer's participation); {already} € already invoiced, {amount} € asked",
    )


def _opening(contract: Contract, numero: int) -> date | None:
    echeance = next((e for e in contract.echeances if int(e["numero"]) == numero), None)
    opens = echeance.get("dateOuverture") if echeance else None
    return date.fromisoformat(opens) if opens else None
