"""The documents of one contract, in the order they were kept: what GET /contracts/{id}/documents lists.

Saved in the same transaction as each new document, so that the list and the documents always agree."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedByPickle
from domain.ids import named_id


def shelf_id(contract_id: UUID) -> UUID:
    return named_id("contracts", str(contract_id), "documents")


class DocumentShelf(CopiedByPickle, Aggregate):
    @staticmethod
    def create_id(contract_id: UUID) -> UUID:
        return shelf_id(contract_id)

    @event("Opened")
    def __init__(self, contract_id: UUID) -> None:
        self.contract_id = contract_id
        self.document_ids: list[str] = []

    def add(self, document_id: UUID) -> None:
        if str(document_id) not in self.document_ids:
            self._added(document_id=str(document_id))

    @event("DocumentAdded")
    def _added(self, document_id: str) -> None:
        self.document_ids.append(document_id)

    def ids(self) -> list[UUID]:
        return [UUID(text) for text in self.document_ids]

    @classmethod
    def of(cls, contract_id: UUID, existing: Any | None) -> DocumentShelf:
        return existing if isinstance(existing, DocumentShelf) else cls(contract_id=contract_id)
