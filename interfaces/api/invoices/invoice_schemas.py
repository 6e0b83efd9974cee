"""Request and response bodies of the invoice routes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.states import InvoiceState
from interfaces.api.contracts.schemas import AttemptOut, NumeroInterne, Strict

Amount = Annotated[
    Decimal,
    Field(gt=0, max_digits=12, decimal_places=2, description='euros and cents, e.g. "1250.40" (a string is safest)'),
]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class LineIn(Strict):
    contractId: UUID = Field(description="a contract of this CFA that its OPCO accepted (ENGAGE)")
    numeroEcheance: int = Field(ge=1, le=99, description="the échéance of the OPCO's échéancier it invoices")
    kind: InvoiceKind = Field(description="pedagogical cost, or one of the frais annexes")
    amount: Amount
    quantity: int | None = Field(None, ge=1, le=10_000, description="nights or meals (required for those kinds)")


class InvoiceCreate(Strict):
    numeroInterneFacture: NumeroInterne = Field(description="the CFA's invoice number, unique per CFA")
    date: date
    lines: list[LineIn] = Field(min_length=1, max_length=500)


class PaymentIn(Strict):
    amount: Amount
    paidOn: date = Field(description="the day the transfer was received; not in the future")
    referenceVirement: Reference | None = Field(None, description="the transfer's reference")


class LineOut(BaseModel):
    contractId: UUID
    numeroInterne: str = Field(description="the contract's numeroInterne")
    numeroExterne: str | None = Field(description="the OPCO's number of the contract")
    numeroEcheance: int
    codification: str | None
    kind: InvoiceKind
    amount: Decimal
    quantity: int | None


class PaymentOut(BaseModel):
    amount: Decimal
    paidOn: date | None
    referenceVirement: str | None
    source: Literal["opco", "cfa"] = Field(description="opco: read from its invoice states; cfa: recorded by hand")
    recordedAt: datetime
    recordedBy: str


class InvoiceTransmissionOut(BaseModel):
    attempts: int
    failures: int
    parked: bool
    inFlightSince: datetime | None
    nextAttemptAt: datetime | None
    lastError: str | None
    waitingForKey: bool
    history: list[AttemptOut]


class InvoiceDocumentOut(BaseModel):
    sha256: str
    size: int
    mediaType: str
    source: Literal["cfa", "convergence"] = Field(description="uploaded by the CFA, or made by Convergence")
    href: str


class InvoiceOut(BaseModel):
    id: UUID
    numeroInterneFacture: str
    numero: str | None = Field(
        description="the invoice's number in the CFA's sequence (billing profile), given at submission; the"
        " `numero` the OPCO receives"
    )
    cfaSiret: str
    opco: str
    date: date
    state: InvoiceState
    amount: Decimal
    paid: Decimal
    unpaid: Decimal
    lines: list[LineOut]
    payments: list[PaymentOut]
    paymentsReportedBy: Literal["opco", "cfa"] = Field(
        description="opco: the OPCO reports payments over the API; cfa: this OPCO does not, record them by hand"
    )
    transmission: InvoiceTransmissionOut | None = Field(description="the sending to the OPCO; null for a draft")
    numeroExterne: str | None
    opcoNumeroInterneFacture: str | None = Field(
        description="the OPCO's own number of the invoice (its numeroInterneFacture), once it has it"
    )
    numeroInterneDocument: str | None = Field(
        description="the OPCO's number of the invoice's PDF, needed to attach documents to it later"
    )
    document: InvoiceDocumentOut | None = Field(
        description="the PDF sent with the invoice: uploaded by the CFA, or issued by Convergence at the first"
        " attempt; null until then (GET /invoices/{id}/document renders it meanwhile)"
    )
    opcoState: str | None = Field(description="the OPCO's etatFacture, verbatim")
    opcoComment: str | None
    cancelReason: str | None
    version: int
    createdAt: datetime
    updatedAt: datetime


class NpecIn(Strict):
    npec: Amount | None = Field(description="the forecast annual NPEC in euros, or null to clear it")


EventData = dict[str, Any]


class FundingYearOut(BaseModel):
    index: int
    start: date
    end: date
    days: int
    yearDays: int
    months: int = Field(description="started months (the prorata before July 2025)")
    amount: Decimal


class InstalmentOut(BaseModel):
    numero: int
    codification: str
    year: int
    share: Decimal
    amount: Decimal
    deduction: Decimal = Field(description="the employer's 750 € participation deducted, where it applies")
    payable: Decimal
    opensOn: date = Field(description="invoiceable from")
    payBy: date = Field(description="the OPCO pays within 30 days of the invoice")
    condition: Literal["advance", "interim", "balance", "proof_of_service"]
    lostAfter: date | None = Field(description="not paid if not invoiced by then (the 10 % of the 2025 regime)")


class ScheduleOut(BaseModel):
    regime: Literal["2020", "2021", "2025"] = Field(
        description="by the conclusion date: 50/25/25, 40/30/30, 40/30/20/10"
    )
    npecApplied: Decimal = Field(description="the NPEC after the distance minoration and the RQTH increase")
    total: Decimal
    deductions: Decimal
    payable: Decimal
    years: list[FundingYearOut]
    instalments: list[InstalmentOut]


class EcheanceComparisonOut(BaseModel):
    numero: int
    codification: str | None
    forecast: Decimal | None = Field(description="our schedule's payable amount")
    forecastOpensOn: date | None
    opcoTotal: Decimal | None = Field(description="the OPCO's montantTotal")
    opcoPaid: Decimal | None
    opcoPending: Decimal | None
    opcoOpensOn: date | None
    invoiced: Decimal
    paid: Decimal
    pending: Decimal
    remaining: Decimal
    differs: bool = Field(description="the forecast and the OPCO's figure differ by a cent or more")
    difference: Decimal | None = Field(description="OPCO total − forecast")


class FundingTotalsOut(BaseModel):
    forecast: Decimal
    opcoTotal: Decimal
    opcoPaid: Decimal
    opcoPending: Decimal
    invoiced: Decimal
    paid: Decimal
    pending: Decimal
    remaining: Decimal
    differing: int


class MissingOut(BaseModel):
    field: str
    code: str
    message: str


class FraisAnnexeOut(BaseModel):
    kind: (
        Literal["hebergement", "restauration", "premierEquipement", "mobiliteInternationale", "majorationRqth"] | None
    ) = Field(description="the invoice kind it funds; null for a nature no invoice line takes")
    natureFrais: str = Field(description="the OPCO's word, verbatim")
    quantite: Decimal | None
    prixUnitaire: Decimal | None
    montantTotal: Decimal | None = Field(description="what the OPCO engaged: the ceiling of the kind's lines")
    invoiced: Decimal = Field(description="invoiced on this contract for this kind, by invoices not refused")


class FundingOut(BaseModel):
    contractId: UUID
    npec: Decimal | None = Field(description="the NPEC the schedule uses: the CFA's forecast")
    npecSource: Literal["forecast"] | None
    opcoCommitment: Decimal | None
    fraisAnnexes: list[FraisAnnexeOut] = Field(
        description="the annex costs the OPCO engaged with its commitment (engagementsFraisAnnexe)"
    )
    schedule: ScheduleOut | None = Field(description="null while scheduleMissing lists what it needs")
    scheduleMissing: list[MissingOut]
    echeances: list[EcheanceComparisonOut]
    totals: FundingTotalsOut
    differs: bool
    rupture: dict[str, Any] | None = Field(
        None,
        description="after a rupture: the funding prorated to it (proratedTotal, employerParticipation, payable,"
        " lastInvoiceBy, schedule); null when the NPEC forecast or the Cerfa's dates are missing",
    )
    traineeship: dict[str, Any] | None = Field(
        None, description="after a rupture: {debut, fin} of the apprentice's traineeship at the CFA (L6222-18-2)"
    )
