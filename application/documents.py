"""The document store's port: documents outside the event log, content-addressed, referenced from events by
their SHA-256. `put` checks the type (by content) and the size, and is idempotent: the same content is stored once,
under the same digest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.documents import DocumentRef

DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Document:
    ref: DocumentRef
    content: bytes


class DocumentStore(Protocol):
    max_bytes: int

    def put(self, content: bytes) -> DocumentRef:
        """Keep a document (InvalidValue on `document` if its type or size is refused); its reference."""

    def get(self, digest: str) -> Document | None: ...

    def delete(self, digest: str) -> bool:
        """Forget a document (an erasure); whether it was there."""
