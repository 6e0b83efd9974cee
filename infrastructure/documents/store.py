"""The document store (application.documents.DocumentStore): a table of the event store's own database, on SQLite
and PostgreSQL alike, or a directory (CONVERGENCE_DOCUMENTS_DIR). Either way a document is found by its SHA-256,
and the same content is kept once. The content is stored encrypted under the master keyring (the digest is the
clear content's); a document stored before encryption is read as it is."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from application.documents import Document
from domain.documents import DocumentRef, MediaType, describe, is_digest
from infrastructure.privacy.keyring import Keyring, is_sealed
from infrastructure.store.sql_store import SqlStore


def _ddl(dialect: str) -> tuple[str, ...]:
    blob = "BYTEA" if dialect == "postgresql" else "BLOB"
    return (
        "CREATE TABLE IF NOT EXISTS documents ("
        f" digest TEXT PRIMARY KEY, media_type TEXT NOT NULL, size BIGINT NOT NULL, content {blob} NOT NULL)",
    )


class _Sealed:
    def __init__(self, keyring: Keyring | None) -> None:
        self._keyring = keyring

    def seal(self, content: bytes) -> bytes:
        return content if self._keyring is None else self._keyring.encrypt(content)

    def open(self, stored: bytes) -> bytes:
        return self._keyring.decrypt(stored) if self._keyring is not None and is_sealed(stored) else stored


class SqlDocumentStore:
    def __init__(self, store: SqlStore, max_bytes: int, keyring: Keyring | None = None) -> None:
        self._store = store
        self.max_bytes = max_bytes
        self._sealed = _Sealed(keyring)
        store.create(_ddl(store.dialect))

    def put(self, content: bytes) -> DocumentRef:
        ref = describe(content, self.max_bytes)
        with self._store.transaction() as tx:
            tx.execute(
                "INSERT INTO documents (digest, media_type, size, content) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (digest) DO NOTHING",
                (ref.digest, ref.media_type.value, ref.size, self._sealed.seal(content)),
            )
        return ref

    def delete(self, digest: str) -> bool:
        with self._store.transaction() as tx:
            return tx.execute("DELETE FROM documents WHERE digest = %s", (digest,)) > 0

    def get(self, digest: str) -> Document | None:
        if not is_digest(digest):
            return None
        with self._store.reading() as tx:
            rows = tx.query("SELECT media_type, size, content FROM documents WHERE digest = %s", (digest,))
        if not rows:
            return None
        media_type, size, content = rows[0]
        return Document(DocumentRef(digest, MediaType(media_type), int(size)), self._sealed.open(bytes(content)))


class DirectoryDocumentStore:
    """One file per document, named by its digest under a two-character fan-out (ab/abcdef…); written to a
    temporary file and renamed, so that a reader never sees half a document."""

    def __init__(self, root: Path, max_bytes: int, keyring: Keyring | None = None) -> None:
        self._root = root
        self.max_bytes = max_bytes
        self._sealed = _Sealed(keyring)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)  # the files are 0600 (mkstemp)

    def put(self, content: bytes) -> DocumentRef:
        ref = describe(content, self.max_bytes)
        path = self._path(ref.digest)
        if not path.exists():
            path.parent.mkdir(mode=0o700, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(self._sealed.seal(content))
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
            content = self._sealed.open(self._path(digest).read_bytes())
        except FileNotFoundError:
            return None
        return Document(describe(content, max(self.max_bytes, len(content))), content)

    def delete(self, digest: str) -> bool:
        if not is_digest(digest):
            return False
        try:
            self._path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def _path(self, digest: str) -> Path:
        return self._root / digest[:2] / digest
