"""Erasing a dossier's personal data without rewriting its history (crypto-shredding, docs/privacy.md).

The dossier's data key is destroyed first, then `PersonalDataErased` is recorded (with the Idempotency-Key's
record, in one transaction): a crash between the two leaves the data unreadable already, and the request sent again
records the event. Then what the service wrote elsewhere goes: the documents of the dossier and the PDFs of its
invoices are deleted, and the read models forget the name (their live rows follow the event; older versions are
cleared here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from application.access.access import Principal
from application.access.idempotency import IdempotentRequest
from application.documents import DocumentStore
from application.dossiers import Dossiers
from application.privacy.sealing import DataKeys
from domain.cerfa.personal import CERFA_PERSONAL_FIELDS, SIGNATORY_PERSONAL_FIELDS
from domain.contracts.contract import Contract
from domain.invoicing.invoice import Invoice

ERASED_FIELDS = (
    *(".".join(("cerfa", *path)) for path in CERFA_PERSONAL_FIELDS),
    *(".".join(("mandate", "signatory", *path)) for path in SIGNATORY_PERSONAL_FIELDS),
)


class ReadModelNames(Protocol):
    def forget(self, contract_id: UUID) -> int:
        """Clear the dossier's personal data from every stored version of the read models; the rows changed."""


@dataclass(frozen=True, slots=True)
class Erasure:
    contract: Contract
    erased_at: datetime
    documents_deleted: int
    read_model_rows: int
    already_erased: bool
    position: int | None = None
    replayed: bool = False
    fields: tuple[str, ...] = field(default=ERASED_FIELDS)

    def to_json(self) -> dict[str, Any]:
        return {
            "contractId": str(self.contract.id),
            "numeroInterne": self.contract.numero_interne,
            "erasedAt": self.erased_at.isoformat(),
            "alreadyErased": self.already_erased,
            "fields": list(self.fields),
            "documentsDeleted": self.documents_deleted,
            "readModelRowsCleared": self.read_model_rows,
            "dataKey": "destroyed",
        }


class Erasures:
    def __init__(
        self,
        dossiers: Dossiers,
        data_keys: DataKeys,
        documents: DocumentStore,
        read_models: Iterable[ReadModelNames],
        contract_documents: Callable[[UUID], list[str]] = lambda _: [],
    ) -> None:
        self._dossiers = dossiers
        self._keys = data_keys
        self._documents = documents
        self._read_models = list(read_models)
        self._contract_documents = contract_documents  # the digests of a dossier's documents

    def erase(self, principal: Principal, ident: UUID, idempotency_key: str | None = None) -> Erasure:
        """Erase the dossier's personal data (an admin of its CFA, or the operator). Erasing again is harmless:
        the answer says it was erased already, and what remained anywhere is cleared again."""
        principal.require_admin()
        before = self._dossiers.contract(principal, ident)
        already = before.personal_data_erased_at is not None
        request = IdempotentRequest.of_command(idempotency_key, principal, f"/contracts/{ident}/erasure", None, None)

        def erase(contract: Contract) -> None:
            self._keys.destroy(contract.id)
            contract.erase_personal_data(principal.actor)

        outcome = self._dossiers.commands.change(
            lambda i, v: self._dossiers.contract(principal, i, v), ident, erase, request=request
        )
        return self._sweep(outcome.aggregate, already, outcome.position, outcome.replayed)

    def sweep(self, contract: Contract) -> Erasure:
        """Clear again what an erased dossier may have left (documents, read-model versions)."""
        return self._sweep(contract, True, None, False)

    def _sweep(self, contract: Contract, already: bool, position: int | None, replayed: bool) -> Erasure:
        deleted = sum(self._documents.delete(digest) for digest in self._digests(contract))
        cleared = sum(view.forget(contract.id) for view in self._read_models)
        erased_at = contract.personal_data_erased_at
        assert erased_at is not None
        return Erasure(contract, erased_at, deleted, cleared, already, position, replayed)

    def _digests(self, contract: Contract) -> list[str]:
        digests = list(self._contract_documents(contract.id))
        for invoice_id in contract.invoices:
            invoice: object = self._dossiers.repository.get(UUID(invoice_id))
            if isinstance(invoice, Invoice) and invoice.document is not None:
                digests.append(invoice.document["digest"])
        return digests
