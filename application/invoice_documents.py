"""The invoice's document: the PDF the CFA uploaded (it wins), else the one Convergence renders from the invoice,
its contracts and the CFA's billing profile."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from application.access import Principal
from application.documents import Document, DocumentStore
from application.dossiers import Dossiers
from application.invoice_document import BillingDetails, InvoiceDocument, invoice_document
from application.invoices import Invoices, SavedInvoice
from domain.documents import DocumentRef, MediaType, describe
from domain.errors import RulesConflict
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
        """What was, or will be, sent: the uploaded document, else the rendered one."""
        invoice = self._invoices.invoice(principal, ident)
        if invoice.document is not None:
            found = self._store.get(invoice.document["digest"])
            if found is None:
                raise LookupError(f"document {invoice.document['digest']} of invoice {ident} is missing from the store")
            return found
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
        content = self._render(invoice_document(invoice, contracts, billing, self._invoices.number(invoice)))
        return Document(DocumentRef.of(content, MediaType.PDF), content)
