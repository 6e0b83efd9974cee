"""Response bodies of the invoices' read side: GET /invoices, and the invoice parts of /dashboard and /attention."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.invoicing.states import InvoiceState
from domain.opco.opcos import Opco


class InvoiceItem(BaseModel):
    """An invoice as a table shows it (GET /invoices/{id} has its lines, payments and transmission)."""

    id: UUID
    numeroInterneFacture: str
    cfaSiret: str
    date: date
    state: InvoiceState
    opco: Opco
    amount: Decimal
    paid: Decimal
    unpaid: Decimal
    numeroExterne: str | None
    opcoState: str | None
    parked: bool = Field(description="its transmission is parked: it waits for POST /invoices/{id}/transmission/retry")
    lineCount: int
    contractIds: list[UUID]
    sentAt: datetime | None
    createdAt: datetime
    updatedAt: datetime = Field(description="its last change: the list's order, and what updatedSince compares")


class InvoicePageOut(BaseModel):
    items: list[InvoiceItem]
    nextCursor: str | None = Field(description="pass it as `cursor` for the next page; null on the last page")


class StateFiguresOut(BaseModel):
    count: int
    amount: Decimal
    paid: Decimal


class OverdueOut(BaseModel):
    count: int
    amount: Decimal = Field(description="what remains unpaid on them")
    oldestSentOn: date | None


class EcheancesNotInvoicedOut(BaseModel):
    count: int
    amount: Decimal = Field(description="what remains to invoice on them")
    oldestOpeningDate: date | None


class InvoiceDashboardOut(BaseModel):
    byState: dict[str, StateFiguresOut] = Field(description="invoice state → number, amounts, paid")
    invoiced: Decimal = Field(description="amounts of the invoices the OPCOs have: sent, accepted, (partially) paid")
    paid: Decimal
    unpaid: Decimal = Field(description="invoiced - paid")
    overdue: OverdueOut = Field(description="sent, accepted or partially paid, sent more than paymentDays ago")
    echeancesNotInvoiced: EcheancesNotInvoicedOut = Field(
        description="échéances of accepted (or terminated) contracts, open today, on which nothing is invoiced"
    )
    parked: int = Field(description="invoices whose transmission is parked")
    paymentDays: int = Field(description="the payment delay after which a sent invoice is overdue")
    asOf: int = Field(description="the log position the figures are at")


InvoiceReason = Literal["invoice_refused", "invoice_unpaid", "invoice_parked", "projection_error"]


class InvoiceAttentionOut(InvoiceItem):
    kind: Literal["invoice"]
    reasons: list[InvoiceReason]


class EcheanceAttentionOut(BaseModel):
    """An échéance open for more than CONVERGENCE_ATTENTION_INVOICE_DAYS days on which nothing is invoiced."""

    kind: Literal["echeance"]
    contractId: UUID
    numeroInterne: str
    numeroExterne: str | None
    cfaSiret: str
    opco: Opco | None
    apprenticeName: str | None
    employerName: str | None
    numeroEcheance: int
    codification: str | None
    montantTotal: Decimal
    invoiced: Decimal
    paid: Decimal
    remaining: Decimal
    opensOn: date | None
    pendingInvoice: str | None
    reasons: list[Literal["echeance_not_invoiced", "projection_error"]]
