"""What must hold of each aggregate after every one of its events, checked by `convergence audit verify` as it
replays the log: the domain's own rules, seen from outside (an event written past them, by a bug or by hand)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from domain.contracts.contract import Contract
from domain.contracts.contract_state import DRAFT_STATES, ContractState
from domain.invoicing.invoice import Invoice
from domain.invoicing.ledger import echeance_figures
from domain.invoicing.states import InvoiceState
from domain.money import euros

Check = Callable[[Any, Any, Any], list[str]]  # (aggregate after the event, its state before, the event) → broken


def contract_invariants(contract: Contract, before: Any, event: Any) -> list[str]:
    broken = []
    if not isinstance(contract.state, ContractState):
        broken.append(f"unknown state {contract.state!r}")
    elif before is not None and before not in DRAFT_STATES and contract.state in DRAFT_STATES:
        broken.append(
            f"back to {contract.state.value} from {ContractState(before).value}: a dossier never returns to draft"
        )
    if hasattr(event, "invoice_id") or hasattr(event, "echeances"):  # the events that change the ledger
        broken.extend(_ledger(contract))
    return broken


def _ledger(contract: Contract) -> list[str]:
    broken = []
    for echeance in contract.echeances:
        figures = echeance_figures(echeance, contract.invoices)
        over = figures["invoiced"] - (figures["total"] - figures["settledAtCommitment"])
        if over > 0:
            broken.append(
                f"échéance {echeance.get('numero')}: {figures['invoiced']} € invoiced, {over} € beyond what it allows"
            )
    for invoice_id, entry in contract.invoices.items():
        for line, paid in zip(entry["lines"], entry["paid"], strict=True):
            if euros(paid) > euros(line["amount"]):
                broken.append(f"invoice {invoice_id}: {paid} € paid on a line of {line['amount']} €")
    return broken


def invoice_invariants(invoice: Invoice, before: Any, event: Any) -> list[str]:
    broken = []
    if not isinstance(invoice.state, InvoiceState):
        broken.append(f"unknown state {invoice.state!r}")
    if invoice.paid < Decimal(0) or invoice.paid > invoice.amount:
        broken.append(f"{invoice.paid} € paid on an invoice of {invoice.amount} €")
    if before in (InvoiceState.PAID, InvoiceState.CANCELLED) and invoice.state != before:
        broken.append(f"{invoice.state} after {before}: a paid or cancelled invoice is final")
    return broken


CHECKS: dict[type, Check] = {Contract: contract_invariants, Invoice: invoice_invariants}


def invariants(aggregate: Any, before: Any, event: Any) -> list[str]:
    """What is broken of `aggregate` after `event` (`before`: its `state` before it, None at its creation)."""
    check = CHECKS.get(type(aggregate))
    return check(aggregate, before, event) if check is not None else []
