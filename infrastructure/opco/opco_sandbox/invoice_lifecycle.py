"""The life of an invoice at the OPCO, computed on every read from its receipt time and the clock (as dossiers').

TRANSMISE → EN_COURS_INSTRUCTION after `invoice_instruction_delay` → VALIDEE (or REFUSEE, by the refusal rule)
`invoice_validation_delay` later → REGLE `invoice_payment_delay` later, paid in full. An invoice received while
`partial_payment` was on is paid in two steps: REGLE_PARTIEL (half, rounded to the cent) after the payment delay,
then REGLE (the whole) one more payment delay later, by two transfers each listed in `reglements`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from infrastructure.clock import PARIS
from infrastructure.opco.opco_sandbox.config import SandboxConfig
from infrastructure.opco.opco_sandbox.invoice_records import StoredInvoice
from infrastructure.opco.opco_sandbox.schedule import money

TRANSMISE, EN_COURS_INSTRUCTION, VALIDEE = "TRANSMISE", "EN_COURS_INSTRUCTION", "VALIDEE"
REGLE_PARTIEL, REGLE, REFUSEE = "REGLE_PARTIEL", "REGLE", "REFUSEE"
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Transfer:
    amount: Decimal
    day: date
    reference: str


@dataclass(frozen=True, slots=True)
class InvoiceProgress:
    etat: str
    montant_regle: Decimal = ZERO
    reference_virement: str | None = None
    date_reglement: date | None = None
    commentaire: str | None = None
    transfers: tuple[Transfer, ...] = ()

    @property
    def holds_amounts(self) -> bool:
        """Whether its amounts count against the échéances (all but a refused invoice)."""
        return self.etat != REFUSEE

    def settled(self, amount: Decimal) -> Decimal:
        """The part of `amount` (a line of this invoice) paid so far."""
        if self.etat == REGLE:
            return amount
        if self.etat == REGLE_PARTIEL:
            return half(amount)
        return ZERO


def half(amount: Decimal) -> Decimal:
    return money(amount / 2)


def invoice_progress(stored: StoredInvoice, now: datetime, config: SandboxConfig) -> InvoiceProgress:
    elapsed = (now - stored.submitted_at).total_seconds()
    validation = config.invoice_instruction_delay + config.invoice_validation_delay
    if elapsed < config.invoice_instruction_delay:
        return InvoiceProgress(TRANSMISE)
    if elapsed < validation:
        return InvoiceProgress(EN_COURS_INSTRUCTION)
    reason = refusal_reason(stored, config)
    if reason is not None:
        return InvoiceProgress(REFUSEE, commentaire=f"Facture refusée : {reason}")
    payments = int((elapsed - validation) // config.invoice_payment_delay) if config.invoice_payment_delay else 2
    if payments == 0:
        return InvoiceProgress(VALIDEE)
    if stored.partial and payments == 1:
        return _paid(stored, REGLE_PARTIEL, half(stored.invoice.montant), 1, config)
    return _paid(stored, REGLE, stored.invoice.montant, 2 if stored.partial else None, config)


def refusal_reason(stored: StoredInvoice, config: SandboxConfig) -> str | None:
    marker = config.invoice_refusal_marker
    if marker and marker in stored.numero:
        return f"motif de refus simulé par le bac à sable (numéro de facture contenant « {marker} »)"
    return None


def _paid(
    stored: StoredInvoice, etat: str, amount: Decimal, transfer: int | None, config: SandboxConfig
) -> InvoiceProgress:
    """Paid by the transfer number `transfer` (None when paid in one go), on the day it was made (Paris); each
    transfer made so far is listed (`reglements`), the last one also in the invoice's own payment fields."""
    made = [_transfer(stored, None, amount, config)] if transfer is None else []
    for number in range(1, (transfer or 0) + 1):
        part = half(stored.invoice.montant) if number == 1 else amount - half(stored.invoice.montant)
        made.append(_transfer(stored, number, part, config))
    last = made[-1]
    return InvoiceProgress(etat, amount, last.reference, last.day, transfers=tuple(made))


def _transfer(stored: StoredInvoice, number: int | None, amount: Decimal, config: SandboxConfig) -> Transfer:
    delays = config.invoice_instruction_delay + config.invoice_validation_delay
    delays += config.invoice_payment_delay * (number or 1)
    day = (stored.submitted_at + timedelta(seconds=delays)).astimezone(PARIS).date()
    reference = f"VIR-{stored.opco.value}-{day:%Y%m%d}-{stored.sequence:06d}" + (f"-{number}" if number else "")
    return Transfer(amount, day, reference)
