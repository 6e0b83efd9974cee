"""PUT and GET /invoices/{id}/document: the CFA's own PDF kept by its SHA-256, else the one Convergence renders."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from application.invoices.invoice_documents import InvoiceDocuments
from infrastructure.documents.invoice_pdf import render_invoice_pdf
from infrastructure.documents.store import SqlDocumentStore
from interfaces.bootstrap import Container
from tests.invoicing import PROFILE
from tests.unit.test_api import assert_problem, token
from tests.unit.test_api_invoices import accepted, invoice_body
from tests.unit.test_invoice_pdf import DOCUMENT, ISSUER, Billing

PDF = render_invoice_pdf(DOCUMENT)
PDF_HEADERS = {"Content-Type": "application/pdf"}


@pytest.fixture
def cfa(client: TestClient) -> dict[str, str]:
    return token(client, ISSUER.siret)


@pytest.fixture
def invoice_id(client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]) -> str:
    created = client.post("/invoices", json=invoice_body(accepted(services, complete_cerfa)), headers=cfa)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def put(client: TestClient, invoice_id: str, content: bytes, headers: dict[str, str]) -> Any:
    return client.put(f"/invoices/{invoice_id}/document", content=content, headers={**PDF_HEADERS, **headers})


def test_an_uploaded_pdf_is_served_back_and_its_digest_is_in_the_history(
    client: TestClient, cfa: dict[str, str], invoice_id: str
) -> None:
    digest = hashlib.sha256(PDF).hexdigest()
    attached = put(client, invoice_id, PDF, {**cfa, "If-Match": '"1"', "Idempotency-Key": "doc-1"})
    assert (attached.status_code, attached.headers["ETag"]) == (200, '"2"')

    served = client.get(f"/invoices/{invoice_id}/document", headers=cfa)
    assert (served.status_code, served.headers["content-type"], served.content) == (200, "application/pdf", PDF)
    assert served.headers["Repr-Digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"

    events = client.get(f"/invoices/{invoice_id}/events", headers=cfa).json()
    [attachment] = [e for e in events if e["type"] == "DocumentAttached"]
    assert (attachment["data"]["digest"], attachment["data"]["size"], attachment["data"]["media_type"]) == (
        digest,
        len(PDF),
        "application/pdf",
    )
    assert attachment["actor"]


def test_a_replayed_upload_records_one_event(client: TestClient, cfa: dict[str, str], invoice_id: str) -> None:
    first = put(client, invoice_id, PDF, {**cfa, "Idempotency-Key": "doc-1"})
    again = put(client, invoice_id, PDF, {**cfa, "Idempotency-Key": "doc-1"})
    assert (first.status_code, again.status_code, again.headers["Idempotent-Replayed"]) == (200, 200, "true")
    same_without_key = put(client, invoice_id, PDF, cfa)
    assert same_without_key.headers["ETag"] == first.headers["ETag"]  # the same document again changes nothing
    other = put(client, invoice_id, PDF + b"\n%%other", {**cfa, "Idempotency-Key": "doc-1"})
    assert_problem(other, 422)
    events = client.get(f"/invoices/{invoice_id}/events", headers=cfa).json()
    assert [e["type"] for e in events].count("DocumentAttached") == 1


def test_a_document_that_is_not_a_pdf_is_refused_by_its_content(
    client: TestClient, cfa: dict[str, str], invoice_id: str
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    for content in (png, b"not a pdf at all", b""):
        refused = assert_problem(put(client, invoice_id, content, cfa), 422)
        assert [(e["field"], e["code"]) for e in refused["errors"]] in (
            [("document", "document_type")],
            [("document", "document_empty")],
        )
    assert [(e["field"], e["code"]) for e in assert_problem(put(client, invoice_id, png, cfa), 422)["errors"]] == [
        ("document", "document_type")
    ]
    assert client.get(f"/invoices/{invoice_id}", headers=cfa).headers["ETag"] == '"1"'


def test_an_oversize_document_is_413(
    client: TestClient, services: Container, cfa: dict[str, str], invoice_id: str
) -> None:
    too_large = b"%PDF-" + bytes(services.settings.max_document_bytes)
    assert_problem(put(client, invoice_id, too_large, cfa), 413)
    assert put(client, invoice_id, b"%PDF-" + bytes(2 * 1024 * 1024), cfa).status_code == 200  # past the JSON limit


def test_after_submission_the_document_is_fixed(client: TestClient, cfa: dict[str, str], invoice_id: str) -> None:
    assert client.post(f"/invoices/{invoice_id}/submission", headers=cfa).status_code == 202
    assert_problem(put(client, invoice_id, PDF, cfa), 409)


def test_a_stale_if_match_is_412(client: TestClient, cfa: dict[str, str], invoice_id: str) -> None:
    assert_problem(put(client, invoice_id, PDF, {**cfa, "If-Match": '"7"'}), 412)


def unprofiled_invoice(client: TestClient, services: Container, cfa: dict[str, str], cerfa: dict[str, Any]) -> str:
    """An invoice of a CFA that has set no billing profile yet."""
    contract = accepted(services, cerfa, with_billing_profile=False)
    created = client.post("/invoices", json=invoice_body(contract), headers=cfa)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_without_an_upload_or_a_billing_profile_the_document_is_409(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    invoice_id = unprofiled_invoice(client, services, cfa, complete_cerfa)
    missing = assert_problem(client.get(f"/invoices/{invoice_id}/document", headers=cfa), 409)
    assert [(e["field"], e["code"]) for e in missing["errors"]] == [("profile", "billing_profile_missing")]


def test_without_an_upload_the_invoice_is_rendered_from_the_billing_profile(
    client: TestClient, services: Container, cfa: dict[str, str], invoice_id: str
) -> None:
    services.invoice_documents = InvoiceDocuments(
        services.invoices,
        services.dossiers,
        SqlDocumentStore(services.store, services.settings.max_document_bytes),
        render_invoice_pdf,
        billing_profile=lambda siret: Billing() if siret == ISSUER.siret else None,
    )
    served = client.get(f"/invoices/{invoice_id}/document", headers=cfa)
    assert (served.status_code, served.headers["content-type"]) == (200, "application/pdf")
    text = PdfReader(io.BytesIO(served.content)).pages[0].extract_text()
    assert "Total TTC à payer 1 200,00 €" in text.splitlines()
    assert f"IBAN : {ISSUER.iban}" in text.splitlines()


def test_the_cfas_own_profile_names_it_on_the_rendered_invoice_and_submission_numbers_it(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    """Through the service's own wiring: the profile set over the API (its IBAN sealed) is what the PDF shows."""
    invoice_id = unprofiled_invoice(client, services, cfa, complete_cerfa)
    admin = token(client, ISSUER.siret, "admin")
    assert client.put(f"/cfas/{ISSUER.siret}/profile", json=PROFILE, headers=admin).status_code == 200

    draft = PdfReader(io.BytesIO(client.get(f"/invoices/{invoice_id}/document", headers=cfa).content))
    lines = draft.pages[0].extract_text().splitlines()
    assert PROFILE["legalName"] in lines
    assert f"IBAN : {PROFILE['iban']}" in lines or f"IBAN : {PROFILE['iban'].replace(' ', '')}" in lines

    assert client.post(f"/invoices/{invoice_id}/submission", headers=cfa).status_code == 202
    sent = PdfReader(io.BytesIO(client.get(f"/invoices/{invoice_id}/document", headers=cfa).content))
    assert any("FAC-2026-00001" in line for line in sent.pages[0].extract_text().splitlines())


def test_another_cfa_sees_no_document(client: TestClient, invoice_id: str) -> None:
    other = token(client, "73282932000074")
    assert_problem(client.get(f"/invoices/{invoice_id}/document", headers=other), 404)
    assert_problem(put(client, invoice_id, PDF, other), 404)
