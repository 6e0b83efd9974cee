"""The invoice routes in-process (FastAPI TestClient) on the in-memory store: wire format and error paths."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.invoicing.invoice import Invoice
from domain.opco.opcos import Opco
from interfaces.bootstrap import Container
from tests.invoicing import CFA, accepted_contract, echeancier
from tests.support import principal
from tests.unit.test_api import assert_problem, token

TODAY = date.today()


@pytest.fixture
def cfa(client: TestClient) -> dict[str, str]:
    return token(client, CFA)


def accepted(services: Container, cerfa: dict[str, Any], numero: str = "C-1", **kwargs: Any) -> str:
    opens = (TODAY - timedelta(days=30)).isoformat(), (TODAY + timedelta(days=1)).isoformat()
    contract = accepted_contract(
        services.dossiers, principal(CFA), cerfa, numero, echeances=echeancier(opens=opens), **kwargs
    )
    return str(contract.id)


def invoice_body(contract_id: str, numero: str = "F-1", **line: Any) -> dict[str, Any]:
    return {
        "numeroInterneFacture": numero,
        "date": TODAY.isoformat(),
        "lines": [{"contractId": contract_id, "numeroEcheance": 1, "kind": "pedagogie", "amount": "1200.00", **line}],
    }


def test_an_invoice_from_draft_to_paid_by_hand(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    contract_id = accepted(services, complete_cerfa, opco=Opco.CONSTRUCTYS)
    created = client.post("/invoices", json=invoice_body(contract_id), headers={**cfa, "Idempotency-Key": "inv-1"})
    assert created.status_code == 201, created.text
    invoice = created.json()
    assert (created.headers["ETag"], created.headers["Location"]) == ('"1"', f"/invoices/{invoice['id']}")
    assert int(created.headers["X-Position"]) >= 1
    assert (invoice["state"], invoice["amount"], invoice["unpaid"], invoice["opco"]) == (
        "drafted",
        "1200.00",
        "1200.00",
        "CONSTRUCTYS",
    )
    assert invoice["lines"][0]["codification"] == "E1"
    assert invoice["paymentsReportedBy"] == "cfa"
    assert invoice["transmission"] is None

    again = client.post("/invoices", json=invoice_body(contract_id), headers={**cfa, "Idempotency-Key": "inv-1"})
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (201, "true")

    submitted = client.post(f"/invoices/{invoice['id']}/submission", headers=cfa)
    assert (submitted.status_code, submitted.json()["state"]) == (202, "submitted")
    assert (invoice["numero"], submitted.json()["numero"]) == (None, "FAC-2026-00001")
    assert submitted.json()["transmission"]["waitingForKey"] is True  # no CONSTRUCTYS key for this CFA yet

    def sent(i: Invoice) -> None:
        i.start_transmission("worker")
        i.record_sent(numero_externe="FX-9", etat="TRANSMISE", found_by_lookup=False, actor="worker")

    services.invoices.change_as_worker(UUID(invoice["id"]), sent)
    payment = {"amount": "1200.00", "paidOn": TODAY.isoformat(), "referenceVirement": "VIR-77"}
    paid = client.post(f"/invoices/{invoice['id']}/payments", json=payment, headers=cfa)
    assert paid.status_code == 200, paid.text
    assert (paid.json()["state"], paid.json()["paid"], paid.json()["unpaid"]) == ("paid", "1200.00", "0.00")
    assert paid.json()["payments"][0]["referenceVirement"] == "VIR-77"

    events = client.get(f"/invoices/{invoice['id']}/events", headers=cfa).json()
    assert [e["type"] for e in events] == [
        "Drafted",
        "SubmissionRequested",
        "Numbered",
        "TransmissionStarted",
        "Sent",
        "PaymentRecorded",
    ]
    contract = client.get(f"/contracts/{contract_id}", headers=cfa).json()
    assert contract["state"] == "accepted"


def test_bad_lines_are_422_naming_each_field(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    contract_id = accepted(services, complete_cerfa)
    body = invoice_body(contract_id, amount="10.001")
    body["lines"].append({"contractId": contract_id, "numeroEcheance": 1, "kind": "taxi", "amount": 5})
    problem = assert_problem(client.post("/invoices", json=body, headers=cfa), 422)
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("lines.0.amount", "decimal_max_places"),
        ("lines.1.kind", "enum"),
    }


def test_rules_broken_by_the_values_are_422_and_by_the_state_409(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    contract_id = accepted(services, complete_cerfa)
    too_much = assert_problem(
        client.post("/invoices", json=invoice_body(contract_id, amount="3000.01"), headers=cfa), 422
    )
    assert [(e["field"], e["code"]) for e in too_much["errors"]] == [("lines.0.amount", "amount_exceeds_remaining")]
    not_open = assert_problem(
        client.post("/invoices", json=invoice_body(contract_id, numeroEcheance=2), headers=cfa), 409
    )
    assert [(e["field"], e["code"]) for e in not_open["errors"]] == [("lines.0.numeroEcheance", "echeance_not_open")]
    assert client.post("/invoices", json=invoice_body(contract_id), headers=cfa).status_code == 201
    duplicate = assert_problem(client.post("/invoices", json=invoice_body(contract_id), headers=cfa), 409)
    assert duplicate["type"] == "urn:convergence:problem:rule-conflict"  # the échéance is held: checked first
    other = accepted(services, complete_cerfa, "C-2")
    same_number = assert_problem(client.post("/invoices", json=invoice_body(other), headers=cfa), 409)
    assert same_number["type"] == "urn:convergence:problem:duplicate-invoice-number"


def test_a_sent_invoice_cannot_be_cancelled_and_a_draft_can(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    contract_id = accepted(services, complete_cerfa)
    invoice = client.post("/invoices", json=invoice_body(contract_id), headers=cfa).json()
    cancelled = client.post(
        f"/invoices/{invoice['id']}/cancellation", json={"reason": "wrong échéance"}, headers={**cfa, "If-Match": '"1"'}
    )
    assert (cancelled.status_code, cancelled.json()["state"]) == (200, "cancelled")
    assert cancelled.json()["cancelReason"] == "wrong échéance"
    stale = client.post(f"/invoices/{invoice['id']}/submission", headers={**cfa, "If-Match": '"1"'})
    assert_problem(stale, 412)
    assert_problem(client.post(f"/invoices/{invoice['id']}/submission", headers=cfa), 409)


def test_another_cfa_sees_no_invoice(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    contract_id = accepted(services, complete_cerfa)
    invoice = client.post("/invoices", json=invoice_body(contract_id), headers=cfa).json()
    other = token(client, "73282932000074")
    assert_problem(client.get(f"/invoices/{invoice['id']}", headers=other), 404)
    refused = assert_problem(client.post("/invoices", json=invoice_body(contract_id, "F-2"), headers=other), 422)
    assert refused["errors"][0]["code"] == "unknown_contract"


def test_the_npec_forecast_is_set_at_creation_and_changed_later(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    created = client.post("/contracts", json={"cerfa": complete_cerfa, "npec": "8500.00"}, headers=cfa).json()
    assert created["npecForecast"] == "8500.00"
    changed = client.put(f"/contracts/{created['id']}/npec", json={"npec": "9000"}, headers=cfa)
    assert (changed.status_code, changed.json()["npecForecast"]) == (200, "9000.00")
    problem = assert_problem(client.put(f"/contracts/{created['id']}/npec", json={"npec": "-1"}, headers=cfa), 422)
    assert problem["errors"][0]["field"] == "npec"
    cleared = client.put(f"/contracts/{created['id']}/npec", json={"npec": None}, headers=cfa)
    assert cleared.json()["npecForecast"] is None


def test_the_funding_schedule_beside_the_opcos_echeancier(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    # concluded 2026-07-10 (40/30/20/10 regime), 2026-09-01 → 2028-08-31: two full years of 365 days, a BTS
    # (level 5: no employer participation), 70 h remote of 1,350 (no minoration), no RQTH; NPEC forecast 8,000
    contract_id = accepted(services, complete_cerfa)
    empty = client.get(f"/contracts/{contract_id}/funding", headers=cfa).json()
    assert (empty["schedule"], [m["field"] for m in empty["scheduleMissing"]]) == (None, ["npec"])
    client.put(f"/contracts/{contract_id}/npec", json={"npec": "8000.00"}, headers=cfa)
    client.post("/invoices", json=invoice_body(contract_id, amount="1000.00"), headers=cfa)
    funding = client.get(f"/contracts/{contract_id}/funding", headers=cfa).json()
    schedule = funding["schedule"]
    assert (schedule["regime"], schedule["npecApplied"], schedule["total"]) == ("2025", "8000.00", "16000.00")
    assert [(i["codification"], i["amount"], i["opensOn"]) for i in schedule["instalments"]] == [
        ("E1", "3200.00", "2026-09-01"),  # 40 % of 8,000
        ("E2", "2400.00", "2027-03-01"),  # 30 %, month 7
        ("E3", "1600.00", "2027-06-01"),  # 20 %, month 10
        ("E4", "800.00", "2027-09-01"),  # 10 % on proof of service, with the next year's advance
        ("E5", "3200.00", "2027-09-01"),
        ("E6", "2400.00", "2028-03-01"),
        ("E7", "1600.00", "2028-06-01"),
        ("E8", "800.00", "2028-08-31"),  # the last year's 10 % at the contract's end
    ]
    first = funding["echeances"][0]
    # the OPCO's E1 is 3,000.00 (tests.invoicing.echeancier); 1,000.00 invoiced, not paid yet
    assert (first["forecast"], first["opcoTotal"], first["differs"], first["difference"]) == (
        "3200.00",
        "3000.00",
        True,
        "-200.00",
    )
    assert (first["invoiced"], first["pending"], first["remaining"]) == ("1000.00", "1000.00", "2000.00")
    assert funding["differs"] is True
    assert funding["totals"]["invoiced"] == "1000.00"


def test_the_invoice_queue_in_the_metrics(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    contract_id = accepted(services, complete_cerfa)
    invoice = client.post("/invoices", json=invoice_body(contract_id), headers=cfa).json()
    client.post(f"/invoices/{invoice['id']}/submission", headers=cfa)
    services.worker.project_once()
    lines = client.get("/metrics").text.splitlines()
    assert 'convergence_invoice_transmissions{status="pending"} 1.0' in lines
    assert 'convergence_read_model_lag{read_model="invoice_transmissions"} 0.0' in lines


def test_the_funding_shows_the_annex_costs_the_opco_engaged(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    meals = {"kind": "restauration", "natureFrais": "Restauration", "quantite": "100", "prixUnitaire": "3",
             "montantTotal": "300"}  # fmt: skip
    other = {"kind": None, "natureFrais": "Transport", "quantite": None, "prixUnitaire": None, "montantTotal": "80"}
    contract_id = accepted(services, complete_cerfa, frais_annexes=[meals, other])
    line: dict[str, Any] = {"kind": "restauration", "amount": "30.00", "quantity": 10}
    assert client.post("/invoices", json=invoice_body(contract_id, **line), headers=cfa).status_code == 201

    shown = client.get(f"/contracts/{contract_id}/funding", headers=cfa).json()["fraisAnnexes"]

    assert shown == [{**meals, "invoiced": "30.00"}, {**other, "invoiced": "0.00"}]
