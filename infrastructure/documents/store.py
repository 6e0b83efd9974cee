"""The document store (application.documents.DocumentStore): a table of the event store's own database, on SQLite
and PostgreSQL alike, or a directory (CONVERGENCE_DOCUMENTS_DIR). Either way a document is found by its SHA-256,
and the same content is kept once."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from application.documents import Document
from domain.documents import DocumentRef, MediaType, describe, is_digest
from infrastructure.store.sql_store import SqlStore


def _ddl(dialect: str) -> tuple[str, ...]:
    blob = "BYTEA" if dialect == "postgresql" else "BLOB"
    return (
        "CREATE TABLE IF NOT EXISTS documents ("
        f" digest TEXT PRIMARY KEY, media_type TEXT NOT NULL, size BIGINT NOT NULL, content {blob} NOT NULL)",
    )


class SqlDocumentStore:
    def __init__(self, store: SqlStore, max_bytes: int) -> None:
        self._store = store
        self.max_bytes = max_bytes
        store.create(_ddl(store.dialect))

    def put(self, content: bytes) -> DocumentRef:
        ref = describe(content, self.max_bytes)
        with self._store.transaction() as tx:
            tx.execute(
                "INSERT INTO documents (digest, media_type, size, content) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (digest) DO NOTHING",
                (ref.digest, ref.media_type.value, ref.size, content),
            )
        return ref

    def get(self, digest: str) -> Document | None:
        if not is_digest(digest):
            return None
        with self._store.reading() as tx:
            rows = tx.query("SELECT media_type, size, content FROM documents WHERE digest = %s", (digest,))
        if not rows:
            return None
        media_type, size, content = rows[0]
        return Document(DocumentRef(digest, MediaType(media_type), int(size)), bytes(content))


class DirectoryDocumentStore:
    """One file per document, named by its digest under a two-character fan-out (ab/abcdef…); written to a
    temporary file and renamed, so that a reader never sees half a document."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self._root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)

    def put(self, content: bytes) -> DocumentRef:
        ref = describe(content, self.max_bytes)
        path = self._path(ref.digest)
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(content)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return ref

    def get(self, digest: str) -> Document | None:
        if not is_digest(digest):
            return None
        try:
            content = self._path(digest).read_bytes()
        except FileNotFoundError:
            return None
        return Document(describe(content, max(self.max_bytes, len(content))), content)

    def _path(self, digest: str) -> Path:
        return self._root / digest[:2] / digest
