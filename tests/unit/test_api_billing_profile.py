"""The CFA's billing profile over the REST API, in-process on the in-memory store."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from domain.opco.opcos import Opco
from interfaces.bootstrap import Container
from tests.invoicing import CFA, PROFILE
from tests.support import OPERATOR_TOKEN
from tests.unit.test_api_invoices import accepted, invoice_body

OTHER_CFA = "73282932000074"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def token(client: TestClient, cfa: str, role: str) -> dict[str, str]:
    issued = client.post("/admin/tokens", json={"cfaSiret": cfa, "role": role, "name": role}, headers=OPERATOR).json()
    return {"Authorization": f"Bearer {issued['token']}"}


def put(client: TestClient, headers: dict[str, str], body: dict[str, Any] | None = None) -> Any:
    return client.put(f"/cfas/{CFA}/profile", json=body or PROFILE, headers=headers)


def test_an_admin_sets_the_profile_and_the_cfa_reads_it_with_the_iban_masked(client: TestClient) -> None:
    assert client.get(f"/cfas/{CFA}/profile", headers=token(client, CFA, "frontend")).status_code == 404
    answer = put(client, token(client, CFA, "admin"))
    assert (answer.status_code, answer.headers["ETag"]) == (200, '"2"'), answer.text
    read = client.get(f"/cfas/{CFA}/profile", headers=token(client, CFA, "frontend"))
    assert read.json() == answer.json()
    body = read.json()
    assert "iban" not in body
    assert "7890189" not in read.text
    assert (body["siret"], body["ibanMasked"], body["bic"], body["uai"]) == (CFA, "****0189", "AGRIFRPP", "0690001B")
    assert body["invoiceNumbering"] == {"prefix": "FAC-2026-", "nextNumber": 1, "issued": 0}


def test_a_bad_value_is_refused_naming_the_field_and_the_rule_and_nothing_is_stored(client: TestClient) -> None:
    admin = token(client, CFA, "admin")
    answer = put(client, admin, {**PROFILE, "iban": "FR7630006000011234567890188", "uai": "0690001A"})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    errors = {(e["field"], e["code"]) for e in answer.json()["errors"]}
    assert errors == {("iban", "iban_invalid"), ("uai", "uai_check_letter")}
    assert client.get(f"/cfas/{CFA}/profile", headers=admin).status_code == 404


def test_a_frontend_token_or_another_cfa_may_not_set_it(client: TestClient) -> None:
    assert put(client, token(client, CFA, "frontend")).status_code == 403
    assert put(client, token(client, OTHER_CFA, "admin")).status_code == 404
    assert put(client, OPERATOR).status_code == 200


def test_if_match_and_idempotency_key_as_every_command(client: TestClient) -> None:
    admin = token(client, CFA, "admin")
    first = put(client, admin | {"Idempotency-Key": "p-1"})
    again = put(client, admin | {"Idempotency-Key": "p-1"})
    assert (again.headers["Idempotent-Replayed"], again.json()) == ("true", first.json())
    changed = put(client, admin | {"If-Match": first.headers["ETag"]}, {**PROFILE, "commune": "Villeurbanne"})
    assert (changed.status_code, changed.json()["commune"]) == (200, "Villeurbanne")
    stale = put(client, admin | {"If-Match": first.headers["ETag"]}, {**PROFILE, "commune": "Lyon"})
    assert stale.status_code == 412
    reused = put(client, admin | {"Idempotency-Key": "p-1"}, {**PROFILE, "commune": "Bron"})
    assert reused.status_code == 422


def test_before_any_number_is_issued_the_numbering_starts_where_the_cfa_says(client: TestClient) -> None:
    put(client, OPERATOR)
    assert put(client, OPERATOR, {**PROFILE, "nextInvoiceNumber": 7}).json()["invoiceNumbering"]["nextNumber"] == 7


def test_an_invoice_is_submitted_only_once_the_profile_is_set_and_takes_its_number(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    cfa = token(client, CFA, "admin")
    contract_id = accepted(services, complete_cerfa, opco=Opco.CONSTRUCTYS, with_billing_profile=False)
    invoice = client.post("/invoices", json=invoice_body(contract_id), headers=cfa).json()
    blocked = client.post(f"/invoices/{invoice['id']}/submission", headers=cfa)
    assert blocked.status_code == 409
    assert [(e["field"], e["code"]) for e in blocked.json()["errors"]] == [
        ("billingProfile", "billing_profile_missing")
    ]
    put(client, cfa, {**PROFILE, "nextInvoiceNumber": 12})
    assert client.post(f"/invoices/{invoice['id']}/submission", headers=cfa).status_code == 202
    numbering = client.get(f"/cfas/{CFA}/profile", headers=cfa).json()["invoiceNumbering"]
    assert numbering == {"prefix": "FAC-2026-", "nextNumber": 13, "issued": 1}
