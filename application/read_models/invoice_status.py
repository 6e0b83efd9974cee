"""The invoices' read model: what a CFA front-end lists, counts and triages of its invoices and of the échéances
its contracts may invoice, fed by the invoice events and the contracts' funding and ledger events.

The projection (application/read_models/invoice_status_projection.py) decides what each event changes; infrastructure
stores it with its tracking position in the same transaction (infrastructure/read_models/invoice_status_view.py).
Invoices are kept as a temporal table of versions, as the contracts' status is: a list walk pinned at a log position
(`as_of`) sees every invoice exactly once, as it was at that position, however invoices change meanwhile. Échéances
are kept as they are now, one row per contract and échéance.

Amounts are Decimal euros with two places here, integer cents in the store: never a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Protocol
from uuid import UUID

from application.read_models.projections import Batch

ZERO = Decimal("0.00")

# Sent to the OPCO and not paid in full: what the legal payment delay runs on.
AWAITING_PAYMENT_STATES = ("sent", "accepted", "partially_paid")
# Invoiced, in the dashboard's sense: the OPCO has it (refused and cancelled invoices no longer count).
INVOICED_STATES = (*AWAITING_PAYMENT_STATES, "paid")


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    """One invoice as a table shows it."""

    invoice_id: UUID
    cfa_siret: str
    opco: str
    numero_interne_facture: str
    invoice_date: date
    state: str
    amount: Decimal
    paid: Decimal
    numero_externe: str | None
    opco_state: str | None
    parked: bool  # its transmission is parked (only while submitted: it waits for POST …/transmission/retry)
    sent_at: datetime | None
    sent_on: date | None  # the day it was sent, in France: the payment delay counts from it
    line_count: int
    contract_ids: tuple[UUID, ...]
    created_at: datetime
    updated_at: datetime  # the last change
    position: int  # log position of the last change

    @property
    def unpaid(self) -> Decimal:
        return self.amount - self.paid


@dataclass(frozen=True, slots=True)
class EcheanceRow:
    """One échéance of a contract's funding (as the OPCO committed it) and what our invoices did with it."""

    contract_id: UUID
    numero: int
    cfa_siret: str
    opco: str | None
    numero_interne: str  # the contract's
    numero_externe: str | None  # the OPCO's number of the contract
    apprentice_name: str | None
    employer_name: str | None
    codification: str | None
    total: Decimal  # montantTotal
    settled_at_commitment: Decimal  # montantRegle + montantEnCoursInstruction when the OPCO committed
    invoiced: Decimal  # pedagogical lines of invoices neither refused nor cancelled
    paid: Decimal
    remaining: Decimal  # what may still be invoiced
    opens_on: date | None  # dateOuverture (else dateDebut); None: open, since when unknown
    invoiceable: bool  # the contract is accepted or terminated: its échéances may be invoiced
    pending_invoice: str | None  # numeroInterneFacture of an invoice on it not yet paid in full nor released
    updated_at: datetime
    position: int

    @property
    def awaiting_invoice(self) -> bool:
        """Nothing invoiced on it, nothing pending, something left to invoice, and the contract allows it."""
        return self.invoiceable and self.invoiced == 0 and self.pending_invoice is None and self.remaining > 0


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    states: tuple[str, ...] = ()
    opco: str | None = None
    contract_id: UUID | None = None  # invoices with a line on this contract
    numero_prefix: str | None = None  # numeroInterneFacture starts with it (case-sensitive)
    updated_since: datetime | None = None
    parked: bool | None = None


@dataclass(frozen=True, slots=True)
class InvoiceCursor:
    """Where a walk stands: pinned at `as_of`, after the row (position, invoice_id) in descending order."""

    as_of: int
    position: int
    invoice_id: UUID


@dataclass(frozen=True, slots=True)
class InvoicePage:
    items: list[InvoiceRow]
    next_cursor: InvoiceCursor | None
    as_of: int


@dataclass(frozen=True, slots=True)
class StateFigures:
    count: int
    amount: Decimal
    paid: Decimal


@dataclass(frozen=True, slots=True)
class Tally:
    """How many, how much, and since when (the oldest date concerned)."""

    count: int
    amount: Decimal
    oldest: date | None


@dataclass(frozen=True, slots=True)
class InvoiceDashboard:
    by_state: dict[str, StateFigures]
    invoiced: Decimal  # amounts of the invoices the OPCO has (sent, accepted, partially paid, paid)
    paid: Decimal
    unpaid: Decimal  # invoiced - paid
    overdue: Tally  # awaiting payment, sent more than the payment delay ago: unpaid amounts, oldest sending day
    echeances_not_invoiced: Tally  # open, nothing invoiced yet: what remains on them, oldest opening day
    parked: int
    as_of: int


AttentionKind = Literal["invoice", "echeance"]


@dataclass(frozen=True, slots=True)
class InvoiceAttentionItem:
    kind: AttentionKind
    reasons: tuple[str, ...]  # invoice_refused, invoice_unpaid, invoice_parked, echeance_not_invoiced,
    # projection_error
    invoice: InvoiceRow | None = None
    echeance: EcheanceRow | None = None


@dataclass(frozen=True, slots=True)
class HeldAggregate:
    """An invoice or a contract the read model holds at its last good state: projecting one of its events failed."""

    aggregate_id: UUID
    kind: str  # "invoice" or "contract"
    cfa_siret: str | None
    position: int
    event_type: str
    error: str


class ViewBehind(Exception):
    """A walk is pinned at a position the view has not reached (it was rebuilt meanwhile): retry shortly."""


class InvoiceCursorExpired(Exception):
    """A walk's snapshot is older than the pruned horizon: start the walk again."""


class InvoiceStatusView(Protocol):
    def apply(self, batch: Batch) -> None:
        """Project a batch of events and write its tracking position, in one transaction; a batch read from
        another position than the view's is refused."""
        ...

    def position(self, application_name: str) -> int: ...

    def page(
        self, cfa_siret: str | None, where: InvoiceFilter, limit: int, cursor: InvoiceCursor | None
    ) -> InvoicePage:
        """Invoices by last change, newest first, as they were at the walk's position; cfa_siret None: all."""
        ...

    def dashboard(self, cfa_siret: str | None, sent_before: date, open_on: date) -> InvoiceDashboard:
        """`sent_before`: invoices awaiting payment sent before this day are overdue; `open_on`: échéances opened
        on or before this day are open."""
        ...

    async def adashboard(self, cfa_siret: str | None, sent_before: date, open_on: date) -> InvoiceDashboard:
        """dashboard, from a coroutine without blocking its event loop."""
        ...

    def attention_candidates(
        self, cfa_siret: str | None, sent_before: date, opened_before: date, limit: int
    ) -> tuple[list[InvoiceRow], list[EcheanceRow]]:
        """Invoices refused, parked, or awaiting payment and sent before `sent_before`; échéances awaiting an
        invoice opened before `opened_before`: the longest waiting first."""
        ...

    def held(self, cfa_siret: str | None) -> list[HeldAggregate]: ...

    def current_invoices(self, invoice_ids: Sequence[UUID]) -> list[InvoiceRow]: ...

    def echeances(self, contract_ids: Sequence[UUID]) -> list[EcheanceRow]: ...
