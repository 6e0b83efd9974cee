"""The worker's release of waiting documents (application.opco.document_release) as a read model of the contracts'
events: its position is kept in projection_tracking, moved after the documents were released (at least once; the
release is idempotent)."""

from __future__ import annotations

from application.opco.document_release import DocumentRelease
from application.read_models.projections import Batch
from infrastructure.read_models import tracking
from infrastructure.store.sql_store import SqlStore

NAME = "document_release"


class DocumentReleaseRunner:
    def __init__(self, store: SqlStore, release: DocumentRelease) -> None:
        self._store = store
        self._release = release
        store.create(tracking.DDL)

    def apply(self, batch: Batch) -> None:
        self._release.apply(batch)
        with self._store.transaction(durable=False) as tx:
            tracking.advance(tx, NAME, batch.tracking, batch.previous)

    def position(self, application_name: str) -> int:
        return tracking.read_position(self._store, NAME, application_name)
