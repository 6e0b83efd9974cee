"""The invoice's document: the PDF the CFA uploaded (it wins), else the one Convergence renders from the invoice,
its contracts and the CFA's billing profile."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from application.access.access import WORKER, Principal
from application.documents import Document, DocumentStore
from application.dossiers import Dossiers
from application.invoices.invoice_document import BillingDetails, InvoiceDocument, invoice_document
from application.invoices.invoices import Invoices, SavedInvoice
from domain.documents import DocumentRef, MediaType, describe
from domain.errors import RulesConflict
from domain.invoicing.invoice import Invoice
from domain.problems import Problem

BillingLookup = Callable[[str], BillingDetails | None]
"""The CFA's billing profile by its SIRET, None where it has none: the hook for the CFA profile
(PUT /cfas/{siret}/profile)."""


def no_billing_profiles(cfa_siret: str) -> BillingDetails | None:
    """Until the CFA profile is wired in: no CFA has a billing profile."""
    return None


class InvoiceDocuments:
    def __init__(
        self,
        invoices: Invoices,
        dossiers: Dossiers,
        store: DocumentStore,
        render: Callable[[InvoiceDocument], bytes],
        billing_profile: BillingLookup = no_billing_profiles,
    ) -> None:
        self._invoices = invoices
        self._dossiers = dossiers
        self._store = store
        self._render = render
        self._billing_profile = billing_profile

    def attach(
        self,
        principal: Principal,
        ident: UUID,
        content: bytes,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> SavedInvoice:
        """Keep the CFA's PDF and record it on the invoice. The invoice is read first, so that nothing is stored
        for an invoice the principal may not see; a document stored for a change then refused is referenced by
        no event, and the same upload later finds it there."""
        principal.require_writer()
        self._invoices.invoice(principal, ident)
        describe(content, self._store.max_bytes, accepted=frozenset({MediaType.PDF}))
        ref = self._store.put(content)
        return self._invoices.attach_document(principal, ident, ref, expected_version, idempotency_key)

    def document(self, principal: Principal, ident: UUID) -> Document:
        """What was, or will be, sent: the uploaded or issued document, else the one rendered now."""
        invoice = self._invoices.invoice(principal, ident)
        if invoice.document is not None and self._store.get(invoice.document["digest"]) is not None:
            return self._kept(invoice)
        # none yet, or deleted by the erasure of an apprentice it named (application/privacy): rendered now
        return self._rendered(invoice, principal)

    def to_send(self, invoice: Invoice) -> Document:
        """For the sender: the document the invoice holds (uploaded, or issued at its first attempt)."""
        if invoice.document is None:
            raise LookupError(f"invoice {invoice.id} has no document issued yet")
        return self._kept(invoice)

    def issue(self, invoice: Invoice) -> DocumentRef | None:
        """Before the first attempt: the PDF rendered and kept in the store, so that every attempt sends the same
        bytes and the history keeps their digest; None when the invoice holds its document already."""
        if invoice.document is not None:
            return None
        return self._store.put(self._rendered(invoice, WORKER).content)

    def _kept(self, invoice: Invoice) -> Document:
        assert invoice.document is not None
        digest = invoice.document["digest"]
        found = self._store.get(digest)
        if found is None:
            raise LookupError(f"document {digest} of invoice {invoice.id} is missing from the store")
        return found

    def _rendered(self, invoice: Invoice, principal: Principal) -> Document:
        billing = self._billing_profile(invoice.cfa_siret)
        if billing is None:
            raise RulesConflict(
                [
                    Problem(
                        "profile",
                        "billing_profile_missing",
                        f"the CFA {invoice.cfa_siret} has no billing profile (legal name, address, UAI, declaration"
                        " number, IBAN, BIC): set it with PUT /cfas/{siret}/profile, or upload the invoice's PDF"
                        " with PUT /invoices/{id}/document",
                    )
                ]
            )
        contracts = {c: self._dossiers.contract(principal, c) for c in invoice.contract_ids}
        content = self._render(invoice_document(invoice, contracts, billing, invoice.numero))
        return Document(DocumentRef.of(content, MediaType.PDF), content)
