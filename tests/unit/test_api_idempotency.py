"""Retrying over HTTP (TestClient, in-memory store): Idempotency-Key on every POST command, documented in the
OpenAPI; a transfer recorded twice is 409; a mandate replaced only under If-Match."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.invoicing.invoice import Invoice
from domain.opco.opcos import Opco
from interfaces.bootstrap import Container
from tests.invoicing import CFA
from tests.support import MANDATE, OPERATOR_TOKEN, with_changes
from tests.unit.test_api import OTHER_CFA, assert_problem, token
from tests.unit.test_api_invoices import accepted, invoice_body

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
COMMANDS_WITHOUT_POST = {("put", "/contracts/{contract_id}/npec"), ("put", "/contracts/{contract_id}/opco")}


@pytest.fixture
def cfa(client: TestClient) -> dict[str, str]:
    return token(client, CFA)


def keyed(auth: dict[str, str], key: str, **headers: str) -> dict[str, str]:
    return {**auth, "Idempotency-Key": key, **headers}


def event_types(client: TestClient, auth: dict[str, str], path: str) -> list[str]:
    return [e["type"] for e in client.get(f"{path}/events", headers=auth).json()]


def test_every_post_and_every_put_command_documents_the_idempotency_key(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    commands = {(m, p) for p, ops in paths.items() for m in ops if m == "post"} | COMMANDS_WITHOUT_POST
    assert len(commands) >= 14
    for method, path in sorted(commands):
        headers = {p["name"]: p for p in paths[path][method].get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, f"{method.upper()} {path}"
        assert "same key" in headers["Idempotency-Key"]["description"], f"{method.upper()} {path}"


def test_a_payment_sent_again_under_its_key_is_answered_again(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    path = sent_invoice(client, services, cfa, complete_cerfa)
    payment = {"amount": "400.00", "paidOn": date.today().isoformat(), "referenceVirement": "VIR-77"}

    first = client.post(f"{path}/payments", json=payment, headers=keyed(cfa, "pay-1"))
    again = client.post(f"{path}/payments", json=payment, headers=keyed(cfa, "pay-1"))

    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.json() == first.json()
    assert (again.headers["Idempotent-Replayed"], again.headers["ETag"]) == ("true", first.headers["ETag"])
    assert "Idempotent-Replayed" not in first.headers
    assert event_types(client, cfa, path).count("PaymentRecorded") == 1
    reused = assert_problem(
        client.post(f"{path}/payments", json={**payment, "amount": "500.00"}, headers=keyed(cfa, "pay-1")), 422
    )
    assert reused["type"] == "urn:convergence:problem:idempotency-key-reused"


def test_a_transfer_sent_twice_without_a_key_is_409_naming_the_reference(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    path = sent_invoice(client, services, cfa, complete_cerfa)
    payment = {"amount": "400.00", "paidOn": date.today().isoformat(), "referenceVirement": "VIR-77"}
    assert client.post(f"{path}/payments", json=payment, headers=cfa).status_code == 200

    refused = assert_problem(client.post(f"{path}/payments", json=payment, headers=cfa), 409)

    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("referenceVirement", "payment_already_recorded")]
    assert event_types(client, cfa, path).count("PaymentRecorded") == 1
    assert client.get(path, headers=cfa).json()["paid"] == "400.00"


def test_a_mandate_sent_again_is_200_and_replaced_only_under_if_match(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    path = f"/contracts/{client.post('/contracts', json={'cerfa': complete_cerfa}, headers=cfa).json()['id']}"
    first = client.post(f"{path}/mandate", json=MANDATE, headers=cfa)
    again = client.post(f"{path}/mandate", json=MANDATE, headers=cfa)
    assert (first.status_code, again.status_code) == (200, 200)
    assert (again.headers["ETag"], again.json()["mandate"]) == ('"2"', first.json()["mandate"])

    other = {**MANDATE, "signedOn": "2026-06-16"}
    assert_problem(client.post(f"{path}/mandate", json=other, headers=cfa), 428)
    assert_problem(client.post(f"{path}/mandate", json=other, headers={**cfa, "If-Match": '"1"'}), 412)
    replaced = client.post(f"{path}/mandate", json=other, headers={**cfa, "If-Match": '"2"'})
    assert (replaced.status_code, replaced.json()["mandate"]["signedOn"]) == (200, "2026-06-16")
    assert event_types(client, cfa, path) == ["Drafted", "MandateRecorded", "MandateRecorded"]


def test_a_submission_sent_again_under_its_key_is_the_same_202(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    path = f"/contracts/{client.post('/contracts', json={'cerfa': complete_cerfa}, headers=cfa).json()['id']}"
    client.post(f"{path}/mandate", json=MANDATE, headers=cfa)
    first = client.post(f"{path}/submission", headers=keyed(cfa, "sub-1"))
    again = client.post(f"{path}/submission", headers=keyed(cfa, "sub-1"))
    assert (first.status_code, again.status_code, again.headers["Idempotent-Replayed"]) == (202, 202, "true")
    assert again.json() == first.json()
    assert_problem(client.post(f"{path}/submission", headers=cfa), 409)  # without its key: a second submission


def test_a_cancellation_under_a_used_key_with_another_reason_is_422(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    path = f"/contracts/{client.post('/contracts', json={'cerfa': complete_cerfa}, headers=cfa).json()['id']}"
    first = client.post(f"{path}/cancellation", json={"reason": "doublon"}, headers=keyed(cfa, "c-1"))
    again = client.post(f"{path}/cancellation", json={"reason": "doublon"}, headers=keyed(cfa, "c-1"))
    assert (first.status_code, again.status_code, again.json()) == (200, 200, first.json())
    assert_problem(client.post(f"{path}/cancellation", json={"reason": "autre"}, headers=keyed(cfa, "c-1")), 422)


def test_a_key_is_one_cfas(client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]) -> None:
    other = token(client, OTHER_CFA)
    theirs = with_changes(complete_cerfa, organismeFormation={"siret": OTHER_CFA})
    mine = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=keyed(cfa, "same-key"))
    their = client.post("/contracts", json={"cerfa": theirs}, headers=keyed(other, "same-key"))
    assert (mine.status_code, their.status_code) == (201, 201), their.text
    assert "Idempotent-Replayed" not in their.headers
    assert their.json()["cfaSiret"] == OTHER_CFA


def test_a_token_is_issued_once_per_key(client: TestClient) -> None:
    body = {"cfaSiret": CFA, "role": "frontend", "name": "front office"}
    first = client.post("/admin/tokens", json=body, headers=keyed(OPERATOR, "tok-1"))
    assert first.status_code == 201
    again = assert_problem(client.post("/admin/tokens", json=body, headers=keyed(OPERATOR, "tok-1")), 409)
    assert (again["type"], again["tokenId"]) == ("urn:convergence:problem:token-already-issued", first.json()["id"])
    revoked = client.post(f"/admin/tokens/{again['tokenId']}/revocation", headers=keyed(OPERATOR, "rev-1"))
    revoked_again = client.post(f"/admin/tokens/{again['tokenId']}/revocation", headers=keyed(OPERATOR, "rev-1"))
    assert (revoked.json()["revoked"], revoked_again.headers.get("content-type")) == (True, "application/json")
    assert revoked_again.json() == revoked.json()


def sent_invoice(client: TestClient, services: Container, cfa: dict[str, str], cerfa: dict[str, Any]) -> str:
    """The path of a sent invoice of 1200 € at an OPCO whose payments the CFA records by hand."""
    contract_id = accepted(services, cerfa, opco=Opco.CONSTRUCTYS)
    invoice = client.post("/invoices", json=invoice_body(contract_id), headers=cfa).json()
    client.post(f"/invoices/{invoice['id']}/submission", headers=cfa)

    def sent(i: Invoice) -> None:
        i.start_transmission("worker")
        i.record_sent(numero_externe="FX-9", etat="TRANSMISE", found_by_lookup=False, actor="worker")

    services.invoices.change_as_worker(UUID(invoice["id"]), sent)
    return f"/invoices/{invoice['id']}"
