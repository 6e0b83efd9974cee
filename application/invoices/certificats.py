"""Certificats de réalisation made by Convergence from the dossier (application.invoices.certificat_document),
rendered as a PDF and kept like an uploaded one: the same route to the OPCO, the same sending."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from application.access.access import Principal
from application.dossiers import Dossiers
from application.invoices.certificat_document import CertificatDocument, certificat_document
from application.opco.opco_documents import ContractDocuments, DocumentUpload, SavedDocument
from domain.contracts.contract import Contract
from domain.invoicing.invoice import Invoice
from domain.opco.opco_documents.kinds import DocumentKind


@dataclass(frozen=True, slots=True)
class CertificatRequest:
    numero_echeance: int
    hours_done: int | None = None
    numero_interne_facture: str | None = None
    final: bool = False


class Certificats:
    def __init__(
        self, dossiers: Dossiers, documents: ContractDocuments, render: Callable[[CertificatDocument], bytes]
    ) -> None:
        self._dossiers = dossiers
        self._documents = documents
        self._render = render

    def make(
        self, principal: Principal, contract_id: UUID, request: CertificatRequest, idempotency_key: str | None = None
    ) -> SavedDocument:
        principal.require_writer()
        contract = self._dossiers.contract(principal, contract_id)
        document = certificat_document(
            contract,
            numero_echeance=request.numero_echeance,
            hours_done=request.hours_done,
            final=request.final,
            issued_on=self._dossiers.clock.today(),
        )
        upload = DocumentUpload(
            kind=DocumentKind.CERTIFICAT_REALISATION,
            content=self._render(document),
            file_name=f"certificat-{contract.numero_interne}-echeance-{request.numero_echeance}.pdf",
            numero_echeance=request.numero_echeance,
            numero_interne_facture=request.numero_interne_facture or self._opco_invoice(contract, request),
            type_certificat="Final" if request.final else "Intermediaire",
        )
        return self._documents.keep(principal, contract_id, upload, idempotency_key)

    def _opco_invoice(self, contract: Contract, request: CertificatRequest) -> str | None:
        """The OPCO's number of the invoice of this échéance that it holds, where there is one: the certificat is
        then attached to it too (opco-wire.md §4.3)."""
        for ident, entry in contract.invoices.items():
            on_it = any(int(line["numeroEcheance"]) == request.numero_echeance for line in entry["lines"])
            if entry["released"] is None and on_it:
                invoice: object = self._dossiers.repository.get(UUID(ident))
                if isinstance(invoice, Invoice) and invoice.opco_numero_interne:
                    return invoice.opco_numero_interne
        return None
