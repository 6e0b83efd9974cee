"""What the invoices of one dossier amount to at a given moment: per échéance, the pédagogie paid and the pédagogie
still in instruction; per nature of frais annexes, what is billed and what is paid. Refused invoices hold nothing.

Derived from the stored invoices and their progress on every read, like the states: nothing to keep in step.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from infrastructure.opco.opco_sandbox.config import SandboxConfig
from infrastructure.opco.opco_sandbox.invoice_lifecycle import ZERO, InvoiceProgress, invoice_progress
from infrastructure.opco.opco_sandbox.invoice_records import InvoiceLine, Nature, StoredInvoice


def _amounts() -> defaultdict[int, Decimal]:
    return defaultdict(lambda: ZERO)


def _by_nature() -> defaultdict[Nature, Decimal]:
    return defaultdict(lambda: ZERO)


@dataclass(slots=True)
class Ledger:
    regle: defaultdict[int, Decimal] = field(default_factory=_amounts)  # pédagogie paid, per numéro d'échéance
    en_cours: defaultdict[int, Decimal] = field(default_factory=_amounts)  # pédagogie billed, not paid yet
    frais_factures: defaultdict[Nature, Decimal] = field(default_factory=_by_nature)  # frais annexes billed
    frais_regles: defaultdict[Nature, Decimal] = field(default_factory=_by_nature)  # frais annexes paid

    def billed(self, numero_echeance: int) -> Decimal:
        """The pédagogie the échéance already bears: paid or in instruction."""
        return self.regle[numero_echeance] + self.en_cours[numero_echeance]

    def add(self, line: InvoiceLine, state: InvoiceProgress) -> None:
        paid = state.settled(line.montant)
        if line.nature is Nature.PEDAGOGIE:
            self.regle[line.numero_echeance] += paid
            self.en_cours[line.numero_echeance] += line.montant - paid
        else:
            self.frais_factures[line.nature] += line.montant
            self.frais_regles[line.nature] += paid


def ledger_of(
    numero_externe_dossier: str, invoices: Iterable[StoredInvoice], now: datetime, config: SandboxConfig
) -> Ledger:
    """From the invoices of the dossier's CFA at its OPCO (their lines name the dossier by its numeroExterne)."""
    ledger = Ledger()
    for stored in invoices:
        lines = stored.invoice.lines_of(numero_externe_dossier)
        if not lines:
            continue
        state = invoice_progress(stored, now, config)
        if state.holds_amounts:
            for line in lines:
                ledger.add(line, state)
    return ledger
