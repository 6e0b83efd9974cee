"""The document table on SQLite and PostgreSQL: kept once by its SHA-256, found again after a restart."""

from __future__ import annotations

import hashlib

from domain.documents import MediaType
from infrastructure.documents.store import SqlDocumentStore
from infrastructure.sql_store import open_sql_store

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40  # every byte value, NUL included


def test_a_document_is_kept_once_and_survives_a_restart(database_url: str) -> None:
    sql = open_sql_store(database_url)
    store = SqlDocumentStore(sql, 1_048_576)
    ref = store.put(PDF)
    assert store.put(PDF) == ref
    with sql.reading() as tx:
        assert tx.query("SELECT COUNT(*) FROM documents WHERE digest = %s", (ref.digest,)) == [(1,)]
    sql.close()

    reopened = open_sql_store(database_url)
    found = SqlDocumentStore(reopened, 1_048_576).get(hashlib.sha256(PDF).hexdigest())
    reopened.close()
    assert found is not None
    assert (found.ref.media_type, found.ref.size, found.content) == (MediaType.PDF, len(PDF), PDF)
