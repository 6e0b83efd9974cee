"""What a contract knows of the invoices drawn on it: per invoice, its lines, whether it was released (refused or
cancelled) and what was paid on each line. Kept on the contract so that one aggregate decides, under its version,
whether an échéance may take another invoice."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from domain.invoicing.kinds import InvoiceKind
from domain.money import ZERO, euros

Entries = Mapping[str, dict[str, Any]]  # invoice id → entry


def new_entry(numero_interne_facture: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "numeroInterneFacture": numero_interne_facture,
        "lines": lines,
        "released": None,
        "paid": ["0.00"] * len(lines),
    }


def _live(entries: Entries) -> list[dict[str, Any]]:
    return [e for e in entries.values() if e["released"] is None]


def reserved(entries: Entries, numero: int, kind: InvoiceKind = InvoiceKind.PEDAGOGIE) -> Decimal:
    """Invoiced on this échéance, paid or not, by invoices neither refused nor cancelled."""
    return sum(
        (euros(line["amount"]) for e in _live(entries) for line in e["lines"] if _on(line, numero, kind)),
        ZERO,
    )


def paid(entries: Entries, numero: int, kind: InvoiceKind = InvoiceKind.PEDAGOGIE) -> Decimal:
    return sum(
        (
            euros(amount)
            for e in _live(entries)
            for line, amount in zip(e["lines"], e["paid"], strict=True)
            if _on(line, numero, kind)
        ),
        ZERO,
    )


def pending_invoice(entries: Entries, numero: int) -> str | None:
    """The numeroInterneFacture of an invoice on this échéance that is neither paid in full nor released."""
    for entry in _live(entries):
        unpaid = any(
            line["numeroEcheance"] == numero and euros(amount) < euros(line["amount"])
            for line, amount in zip(entry["lines"], entry["paid"], strict=True)
        )
        if unpaid:
            return str(entry["numeroInterneFacture"])
    return None


def used(entries: Entries, kind: InvoiceKind) -> Decimal:
    """Invoiced over the whole contract for one kind (for the per-contract ceilings)."""
    return sum(
        (euros(line["amount"]) for e in _live(entries) for line in e["lines"] if line["kind"] == kind.value), ZERO
    )


def _on(line: dict[str, Any], numero: int, kind: InvoiceKind) -> bool:
    return bool(line["numeroEcheance"] == numero and line["kind"] == kind.value)


def echeance_figures(echeance: dict[str, Any], entries: Entries) -> dict[str, Decimal]:
    """The OPCO's figures of an échéance as read at its commitment, and ours since: what remains to invoice."""
    numero = int(echeance["numero"])
    total = euros(echeance.get("montantTotal") or "0")
    settled_before = euros(echeance.get("montantRegle") or "0") + euros(
        echeance.get("montantEnCoursInstruction") or "0"
    )
    invoiced = reserved(entries, numero)
    return {
        "total": total,
        "settledAtCommitment": settled_before,
        "invoiced": invoiced,
        "paid": paid(entries, numero),
        "remaining": max(ZERO, total - settled_before - invoiced),
    }
