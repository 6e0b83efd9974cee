"""POST/GET /contracts/{id}/documents: a convention or certificat uploaded as multipart, kept by its SHA-256, listed
with its sending to the OPCO, served back; bad input is a 422 naming the field."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from interfaces.bootstrap import Container
from tests.unit.test_api import assert_problem, token
from tests.unit.test_api_invoices import accepted, invoice_body

PDF = b"%PDF-1.4\n% convention de formation signee\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def cfa(client: TestClient, complete_cerfa: dict[str, Any]) -> dict[str, str]:
    return token(client, complete_cerfa["organismeFormation"]["siret"])


@pytest.fixture
def contract_id(services: Container, complete_cerfa: dict[str, Any]) -> str:
    return accepted(services, complete_cerfa)


def upload(client: TestClient, contract_id: str, headers: dict[str, str], content: bytes = PDF, **form: str) -> Any:
    fields = {"type": "CONVENTION_FORMATION", **form}
    files = {"document": ("convention.pdf", content, "application/pdf")}
    return client.post(f"/contracts/{contract_id}/documents", data=fields, files=files, headers=headers)


def test_a_convention_is_kept_queued_listed_and_served_back(
    client: TestClient, cfa: dict[str, str], contract_id: str
) -> None:
    created = upload(client, contract_id, {**cfa, "Idempotency-Key": "conv-1"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["type"], body["state"], body["opco"], body["route"]) == (
        "CONVENTION_FORMATION",
        "submitted",
        "ATLAS",
        "conventions",
    )
    assert body["digest"] == hashlib.sha256(PDF).hexdigest()
    assert created.headers["Location"] == f"/contracts/{contract_id}/documents/{body['id']}"

    replayed = upload(client, contract_id, {**cfa, "Idempotency-Key": "conv-1"})
    assert (replayed.status_code, replayed.headers.get("Idempotent-Replayed")) == (201, "true")
    again = upload(client, contract_id, cfa)
    assert (again.status_code, again.json()["id"]) == (200, body["id"])

    listed = client.get(f"/contracts/{contract_id}/documents", headers=cfa)
    assert [d["id"] for d in listed.json()] == [body["id"]]
    assert listed.json()[0]["transmission"]["attempts"] == 0

    served = client.get(f"/contracts/{contract_id}/documents/{body['id']}", headers=cfa)
    assert (served.status_code, served.headers["content-type"], served.content) == (200, "application/pdf", PDF)
    digest = base64.b64encode(hashlib.sha256(PDF).digest()).decode()
    assert served.headers["Repr-Digest"] == f"sha-256=:{digest}:"


def test_a_certificat_names_its_echeance_and_goes_to_v1_documents_at_atlas(
    client: TestClient, cfa: dict[str, str], contract_id: str
) -> None:
    missing = upload(client, contract_id, cfa, type="CERTIFICAT_REALISATION")
    assert assert_problem(missing, 422)["errors"][0]["field"] == "numeroEcheance"
    created = upload(
        client, contract_id, cfa, PNG, type="CERTIFICAT_REALISATION", numeroEcheance="2", numeroInterneFacture="F9"
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["route"], body["mediaType"]) == ("documents", "image/png")
    assert body["objets"][0] == {"typeObjet": "FACTURE", "idObjet": "F9"}


@pytest.mark.parametrize(
    ("form", "content", "field"),
    [
        ({"type": "FACTURE"}, PDF, "type"),
        ({}, b"GIF89a not accepted", "document"),
        ({}, b"", "document"),
        ({"numeroEcheance": "2"}, PDF, "numeroEcheance"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, cfa: dict[str, str], contract_id: str, form: dict[str, str], content: bytes, field: str
) -> None:
    problem = assert_problem(upload(client, contract_id, cfa, content, **form), 422)
    assert problem["errors"][0]["field"] == field


def test_a_document_past_the_size_limit_is_a_422_naming_it(
    client: TestClient, services: Container, cfa: dict[str, str], contract_id: str
) -> None:
    too_large = PDF + b"0" * services.settings.max_document_bytes
    problem = assert_problem(upload(client, contract_id, cfa, too_large), 422)
    assert (problem["errors"][0]["field"], problem["errors"][0]["code"]) == ("document", "document_too_large")


def test_an_auditor_may_list_but_not_upload(
    client: TestClient, cfa: dict[str, str], contract_id: str, complete_cerfa: dict[str, Any]
) -> None:
    reader = token(client, complete_cerfa["organismeFormation"]["siret"], role="auditor")
    assert_problem(upload(client, contract_id, reader), 403)
    assert client.get(f"/contracts/{contract_id}/documents", headers=reader).json() == []


def test_a_document_of_a_draft_waits_and_its_submission_says_why(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    draft = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=cfa).json()["id"]
    waiting = upload(client, draft, cfa).json()
    assert waiting["state"] == "waiting"
    assert "drafted" in waiting["waitingReason"]
    refused = client.post(f"/contracts/{draft}/documents/{waiting['id']}/submission", headers=cfa)
    assert assert_problem(refused, 409)["errors"][0]["code"] == "not_sendable"


def test_another_contracts_document_is_not_found(
    client: TestClient, cfa: dict[str, str], contract_id: str, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    other = accepted(services, complete_cerfa, "C-2")
    document = upload(client, contract_id, cfa).json()["id"]
    assert_problem(client.get(f"/contracts/{other}/documents/{document}", headers=cfa), 404)


def test_a_certificat_is_made_from_the_dossier_as_a_pdf_and_queued(
    client: TestClient, cfa: dict[str, str], contract_id: str
) -> None:
    made = client.post(
        f"/contracts/{contract_id}/documents/certificat",
        json={"numeroEcheance": 1, "heuresRealisees": 212, "numeroInterneFacture": "OF-1"},
        headers=cfa,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["type"], body["mediaType"], body["state"]) == (
        "CERTIFICAT_REALISATION",
        "application/pdf",
        "submitted",
    )
    assert body["details"] == {"numeroEcheance": 1, "numeroInterneFacture": "OF-1", "typeCertificat": "Intermediaire"}
    pdf = client.get(f"/contracts/{contract_id}/documents/{body['id']}", headers=cfa).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "CERTIFICAT DE RÉALISATION" in text
    assert "212 heures" in text
    unknown = client.post(f"/contracts/{contract_id}/documents/certificat", json={"numeroEcheance": 99}, headers=cfa)
    assert assert_problem(unknown, 422)["errors"][0]["field"] == "numeroEcheance"


def test_the_document_queue_in_the_metrics(
    client: TestClient, services: Container, cfa: dict[str, str], contract_id: str
) -> None:
    upload(client, contract_id, cfa)
    services.worker.project_once()
    lines = client.get("/metrics").text.splitlines()
    assert 'convergence_document_transmissions{status="pending"} 1.0' in lines
    assert 'convergence_read_model_lag{read_model="document_transmissions"} 0.0' in lines


def test_a_parked_document_is_on_the_attention_list_with_its_reason(
    client: TestClient, services: Container, cfa: dict[str, str], contract_id: str
) -> None:
    document = upload(client, contract_id, cfa).json()["id"]
    lost = "the exchange broke after the request was sent"

    def lose(d: Any) -> None:
        d.start_transmission("worker")
        d.record_answer_lost(lost, "worker")
        d.park_unconfirmed("worker")

    services.contract_documents.change_as_worker(UUID(document), lose)
    services.worker.project_once()
    [item] = [i for i in client.get("/attention", headers=cfa).json() if i.get("kind") == "document"]
    assert (item["id"], item["contractId"], item["reasons"]) == (document, contract_id, ["document_answer_lost"])
    assert "Check at the OPCO" in item["parkedReason"]
    listed = client.get(f"/contracts/{contract_id}/documents", headers=cfa).json()[0]
    assert (listed["answerLost"], listed["transmission"]["parked"]) == (True, True)


def test_a_certificat_is_attached_to_the_invoice_the_opco_holds_for_its_echeance(
    client: TestClient, services: Container, cfa: dict[str, str], contract_id: str
) -> None:
    invoice = client.post("/invoices", json=invoice_body(contract_id), headers=cfa).json()["id"]
    assert client.post(f"/invoices/{invoice}/submission", headers=cfa).status_code == 202

    def sent(i: Any) -> None:
        i.start_transmission("worker")
        i.record_sent(
            numero_externe=None, etat=None, found_by_lookup=False, opco_numero_interne="FAC-OPCO-9", actor="worker"
        )

    services.invoices.change_as_worker(UUID(invoice), sent)
    made = client.post(f"/contracts/{contract_id}/documents/certificat", json={"numeroEcheance": 1}, headers=cfa)
    assert made.status_code == 201, made.text
    assert made.json()["details"]["numeroInterneFacture"] == "FAC-OPCO-9"
    other = client.post(f"/contracts/{contract_id}/documents/certificat", json={"numeroEcheance": 2}, headers=cfa)
    assert other.json()["details"]["numeroInterneFacture"] is None  # no invoice on that échéance
