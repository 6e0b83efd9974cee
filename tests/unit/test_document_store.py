"""Documents outside the event log: the type read from the content, the size limit, and both stores (a table of
the in-memory SQLite store, a directory) keeping the same content once under its SHA-256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from application.documents import DocumentStore
from domain.documents import DocumentRef, MediaType, describe
from domain.errors import InvalidValue
from infrastructure.documents.store import DirectoryDocumentStore, SqlDocumentStore
from infrastructure.store.sql_store import open_sql_store

PDF = b"%PDF-1.7\n" + bytes(range(256))
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
LIMIT = 1024


def code_of(content: bytes, limit: int = LIMIT) -> str:
    with pytest.raises(InvalidValue) as refused:
        describe(content, limit)
    assert refused.value.problem.field == "document"
    return refused.value.problem.code


def test_the_type_is_read_from_the_content() -> None:
    assert [describe(c, LIMIT).media_type for c in (PDF, JPEG, PNG)] == [MediaType.PDF, MediaType.JPEG, MediaType.PNG]
    assert describe(PDF, LIMIT) == DocumentRef(hashlib.sha256(PDF).hexdigest(), MediaType.PDF, len(PDF))
    assert [code_of(c) for c in (b"GIF89a" + bytes(8), b"<html>%PDF-", b" %PDF-1.7", b"")] == [
        "document_type",
        "document_type",
        "document_type",
        "document_empty",
    ]


def test_the_size_limit_is_inclusive() -> None:
    assert describe(PDF, len(PDF)).size == len(PDF)
    assert code_of(PDF, len(PDF) - 1) == "document_too_large"


def test_a_document_type_may_be_narrowed() -> None:
    with pytest.raises(InvalidValue) as refused:
        describe(PNG, LIMIT, accepted=frozenset({MediaType.PDF}))
    assert refused.value.problem.code == "document_type"
    assert "a PNG" in str(refused.value)


@pytest.fixture(params=["table", "directory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> DocumentStore:
    if request.param == "directory":
        return DirectoryDocumentStore(tmp_path / "documents", LIMIT)
    return SqlDocumentStore(open_sql_store("memory://"), LIMIT)


def test_a_document_is_kept_under_its_digest_once(store: DocumentStore) -> None:
    ref = store.put(PDF)
    assert store.put(PDF) == ref
    found = store.get(ref.digest)
    assert found is not None
    assert (found.ref, found.content) == (ref, PDF)
    png = store.put(PNG)
    assert png.digest != ref.digest
    assert store.get(png.digest) is not None


def test_an_unknown_or_malformed_digest_finds_nothing(store: DocumentStore) -> None:
    store.put(PDF)
    assert store.get(hashlib.sha256(b"other").hexdigest()) is None
    assert store.get("../../etc/passwd") is None
    assert store.get(hashlib.sha256(PDF).hexdigest().upper()) is None


def test_a_refused_document_is_not_kept(store: DocumentStore) -> None:
    for content in (b"MZ" + bytes(10), PDF + bytes(LIMIT)):
        with pytest.raises(InvalidValue):
            store.put(content)
        assert store.get(hashlib.sha256(content).hexdigest()) is None


def test_the_directory_holds_one_file_per_document(tmp_path: Path) -> None:
    store = DirectoryDocumentStore(tmp_path, LIMIT)
    ref = store.put(PDF)
    store.put(PDF)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == [f"{ref.digest[:2]}/{ref.digest}"]
