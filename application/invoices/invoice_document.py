"""What the invoice PDF shows, as a plain value, and how it is assembled from an invoice, its contracts and the
CFA's billing profile. The renderer (infrastructure.documents.invoice_pdf) only lays this value out.

The billing profile belongs to the CFA's profile (PUT /cfas/{siret}/profile); here only what the document needs
of it is asked for, as the `BillingDetails` protocol, so that the profile aggregate can be plugged in as it is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from domain.contracts.contract import Contract
from domain.invoicing.invoice import Invoice
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.lines import InvoiceLine, total
from domain.opco.opcos import OPCO_NAMES, Opco

# Vocational training, apprenticeship included, is exempt from VAT (CGI art. 261-4-4° a); the invoice says so.
VAT_EXEMPTION = "Exonération de TVA – article 261-4-4° a du Code général des impôts (formation professionnelle)"
# The OPCO pays within 30 days of receiving the invoice (R6332-25; ../shared/reference/apprenticeship-rules.md §3).
PAYMENT_DAYS = 30

_KIND_LABELS = {
    InvoiceKind.PEDAGOGIE: "Coût de la formation (niveau de prise en charge)",
    InvoiceKind.HEBERGEMENT: "Frais d'hébergement (nuitées)",
    InvoiceKind.RESTAURATION: "Frais de restauration (repas)",
    InvoiceKind.PREMIER_EQUIPEMENT: "Frais de premier équipement pédagogique",
    InvoiceKind.MOBILITE_INTERNATIONALE: "Frais de mobilité internationale",
    InvoiceKind.MAJORATION_RQTH: "Majoration RQTH (apprenti en situation de handicap)",
}


class BillingDetails(Protocol):
    """What the invoice needs of the CFA's billing profile."""

    @property
    def legal_name(self) -> str: ...
    @property
    def address_lines(self) -> Sequence[str]: ...
    @property
    def uai(self) -> str: ...
    @property
    def declaration_number(self) -> str: ...
    @property
    def iban(self) -> str: ...
    @property
    def bic(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Issuer:
    name: str
    address_lines: tuple[str, ...]
    siret: str
    uai: str
    declaration_number: str
    iban: str
    bic: str


@dataclass(frozen=True, slots=True)
class DocumentLine:
    label: str
    numero_echeance: int
    codification: str | None
    quantity: int | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DossierSection:
    """The lines of one contract, under what identifies it to the OPCO."""

    apprentice: str
    employer: str
    numero_deca: str | None
    numero_dossier: str | None  # the OPCO's numeroExterne
    lines: tuple[DocumentLine, ...]

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    issuer: Issuer
    opco_name: str
    number: str
    issued_on: date
    due_on: date
    sections: tuple[DossierSection, ...]
    total: Decimal
    vat_mention: str = VAT_EXEMPTION


def invoice_document(
    invoice: Invoice, contracts: Mapping[UUID, Contract], billing: BillingDetails, number: str | None = None
) -> InvoiceDocument:
    """The document of this invoice; `contracts` holds at least the contracts its lines are booked on; `number`, the
    one its CFA's sequence gave it at submission (before it, the CFA's own numeroInterneFacture stands)."""
    issuer = Issuer(
        name=billing.legal_name,
        address_lines=tuple(billing.address_lines),
        siret=invoice.cfa_siret,
        uai=billing.uai,
        declaration_number=billing.declaration_number,
        iban=billing.iban,
        bic=billing.bic,
    )
    lines = invoice.invoice_lines
    sections = tuple(
        _section(contracts[ident], [line for line in lines if line.contract_id == ident])
        for ident in invoice.contract_ids
    )
    return InvoiceDocument(
        issuer=issuer,
        opco_name=_opco_name(invoice.opco),
        number=number or invoice.numero_interne_facture,
        issued_on=invoice.invoice_date,
        due_on=invoice.invoice_date + timedelta(days=PAYMENT_DAYS),
        sections=sections,
        total=total(lines),
    )


def _opco_name(code: str) -> str:
    try:
        return OPCO_NAMES[Opco(code)]
    except (ValueError, KeyError):
        return code


def _section(contract: Contract, lines: list[InvoiceLine]) -> DossierSection:
    cerfa = contract.cerfa_model
    apprentice = cerfa.apprenti
    names = [apprentice.prenom, apprentice.nomUsage or apprentice.nom] if apprentice else []
    employer = cerfa.employeur.denomination if cerfa.employeur else None
    return DossierSection(
        apprentice=" ".join(str(name) for name in names if name) or contract.numero_interne,
        employer=str(employer or ""),
        numero_deca=contract.numero_deca,
        numero_dossier=lines[0].numero_externe or contract.numero_externe,
        lines=tuple(
            DocumentLine(_KIND_LABELS[line.kind], line.numero_echeance, line.codification, line.quantity, line.amount)
            for line in sorted(lines, key=lambda ln: (ln.numero_echeance, ln.kind.value))
        ),
    )
