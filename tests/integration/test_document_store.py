"""The document table on SQLite and PostgreSQL: kept once by its SHA-256, found again after a restart."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

from domain.documents import MediaType
from infrastructure.documents.store import SqlDocumentStore
from infrastructure.store.sql_store import open_sql_store
from interfaces.api.app import create_app
from tests.invoicing import CFA
from tests.support import container
from tests.unit.test_api import token
from tests.unit.test_api_invoices import accepted, invoice_body

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


def test_an_uploaded_invoice_pdf_is_served_from_the_store(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    services = container(database_url)
    try:
        with TestClient(create_app(services), raise_server_exceptions=False) as client:
            cfa = token(client, CFA)
            contract_id = accepted(services, complete_cerfa)
            created = client.post("/invoices", json=invoice_body(contract_id), headers=cfa)
            assert created.status_code == 201, created.text
            document = f"/invoices/{created.json()['id']}/document"
            headers = {**cfa, "Content-Type": "application/pdf"}
            assert client.put(document, content=PDF, headers=headers).status_code == 200
            assert client.put(document, content=PDF, headers=headers).status_code == 200
            served = client.get(document, headers=cfa)
    finally:
        services.close()
    assert (served.status_code, served.content) == (200, PDF)
