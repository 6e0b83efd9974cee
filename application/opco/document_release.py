"""Documents kept while their contract was not at its OPCO go once it is: on the contract's `Sent` (and the OPCO's
later states), each of its waiting documents is submitted (or keeps waiting, with the new reason: no route).

Run by the worker as a read model of the contracts' events (infrastructure.read_models.document_release). Its effect is
idempotent (only a waiting document is submitted), so an event seen twice after a crash changes nothing more."""

from __future__ import annotations

import logging
from uuid import UUID

from application.errors import ApplicationError
from application.opco.opco_documents import ContractDocuments
from application.read_models.projections import Batch
from application.topics import stored_topics
from domain.contracts.contract import Contract
from domain.errors import DomainError

log = logging.getLogger("convergence.documents")

RELEASE_EVENTS = ("Sent", "OpcoStateChanged")
RELEASE_TOPICS = stored_topics(*(f"{Contract.__module__}:{Contract.__qualname__}.{name}" for name in RELEASE_EVENTS))


class DocumentRelease:
    def __init__(self, documents: ContractDocuments) -> None:
        self._documents = documents

    def apply(self, batch: Batch) -> None:
        for contract_id in dict.fromkeys(event.originator_id for _, event in batch.events):
            try:
                self.release(contract_id)
            except (DomainError, ApplicationError) as refused:  # one document's refusal must not stop the others
                log.warning("waiting documents of contract %s not released: %s", contract_id, refused)

    def release(self, contract_id: UUID) -> int:
        """Submit the contract's waiting documents that can go now; how many were submitted."""
        return self._documents.release_waiting(contract_id)
