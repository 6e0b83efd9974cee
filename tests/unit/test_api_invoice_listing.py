"""GET /invoices, and the invoice figures of /dashboard and /attention, in-process on the in-memory store."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient

from application.read_models.invoice_status_projection import PARIS
from application.read_models.invoice_status_queries import InvoiceAttentionPolicy, InvoiceStatusQueries
from domain.invoicing.invoice import Invoice
from domain.opco.opcos import Opco
from interfaces.api.invoices import invoice_listing
from interfaces.bootstrap import Container
from tests.invoicing import CFA, accepted_contract, echeancier
from tests.support import OPERATOR_TOKEN, FixedClock, principal, with_changes
from tests.unit.test_api import assert_problem, token

TODAY = date.today()
OTHER_CFA = "44306184100047"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
OPENS = tuple((TODAY - timedelta(days=days)).isoformat() for days in (60, 40, 20))


@pytest.fixture
def cfa(client: TestClient) -> dict[str, str]:
    return token(client, CFA)


def accepted(
    services: Container, cerfa: dict[str, Any], numero: str, cfa_siret: str = CFA, opco: Opco | None = None
) -> str:
    document = with_changes(cerfa, organismeFormation={"siret": cfa_siret})
    echeances = echeancier(opens=OPENS, total="1000.00")
    made = accepted_contract(services.dossiers, principal(cfa_siret), document, numero, echeances=echeances, opco=opco)
    return str(made.id)


def post_invoice(
    client: TestClient, auth: dict[str, str], contract_id: str, numero: str, echeance: int = 1, amount: str = "100.00"
) -> httpx.Response:
    """POST /invoices of one pedagogical line, answered 201 (the whole answer: its X-Position too)."""
    body = {
        "numeroInterneFacture": numero,
        "date": TODAY.isoformat(),
        "lines": [{"contractId": contract_id, "numeroEcheance": echeance, "kind": "pedagogie", "amount": amount}],
    }
    answer: httpx.Response = client.post("/invoices", json=body, headers=auth)
    assert answer.status_code == 201, answer.text
    return answer


def create(
    client: TestClient, auth: dict[str, str], contract_id: str, numero: str, echeance: int = 1, amount: str = "100.00"
) -> dict[str, Any]:
    created: dict[str, Any] = post_invoice(client, auth, contract_id, numero, echeance, amount).json()
    return created


def send(services: Container, invoice_id: str, etat: str = "TRANSMISE") -> None:
    def sent(i: Invoice) -> None:
        i.start_transmission("worker")
        i.record_sent(numero_externe="FX-9", etat=etat, found_by_lookup=False, actor="worker")

    services.invoices.change_as_worker(UUID(invoice_id), sent)


def numeros(client: TestClient, auth: dict[str, str], query: str = "") -> list[str]:
    answer = client.get(f"/invoices?{query}", headers=auth)
    assert answer.status_code == 200, answer.text
    return [item["numeroInterneFacture"] for item in answer.json()["items"]]


def test_a_page_lists_the_cfa_invoices_newest_first(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    contract_id = accepted(services, complete_cerfa, "C-1")
    first = create(client, cfa, contract_id, "F-1", 1, "900.00")
    second = create(client, cfa, contract_id, "F-2", 2, "300.00")
    other = token(client, OTHER_CFA)
    create(client, other, accepted(services, complete_cerfa, "O-1", OTHER_CFA), "G-1")
    assert client.post(f"/invoices/{second['id']}/submission", headers=cfa).status_code == 202
    services.worker.project_once()

    page = client.get("/invoices", headers=cfa)
    assert page.status_code == 200, page.text
    assert page.json()["nextCursor"] is None
    assert "Link" not in page.headers
    assert services.invoice_status_view is not None
    assert int(page.headers["X-Position"]) == services.invoice_status_view.position(services.dossiers.name)
    items = page.json()["items"]
    assert [i["numeroInterneFacture"] for i in items] == ["F-2", "F-1"]
    assert items[0] == {
        "id": second["id"],
        "numeroInterneFacture": "F-2",
        "cfaSiret": CFA,
        "date": TODAY.isoformat(),
        "state": "submitted",
        "opco": "ATLAS",
        "amount": "300.00",
        "paid": "0.00",
        "unpaid": "300.00",
        "numeroExterne": None,
        "opcoState": None,
        "parked": False,
        "lineCount": 1,
        "contractIds": [contract_id],
        "sentAt": None,
        "createdAt": items[0]["createdAt"],
        "updatedAt": items[0]["updatedAt"],
    }
    assert items[0]["updatedAt"] > items[0]["createdAt"]
    assert (items[1]["id"], items[1]["state"], items[1]["amount"]) == (first["id"], "drafted", "900.00")

    assert numeros(client, other) == ["G-1"]
    assert numeros(client, OPERATOR) == ["F-2", "G-1", "F-1"]
    assert numeros(client, OPERATOR, f"cfaSiret={OTHER_CFA}") == ["G-1"]
    assert numeros(client, cfa, f"cfaSiret={OTHER_CFA}") == []  # a CFA sees its own invoices only
    assert numeros(client, cfa, f"cfaSiret={CFA}") == ["F-2", "F-1"]
    assert client.get(f"/invoices/{first['id']}", headers=cfa).json()["numeroInterneFacture"] == "F-1"
    assert client.get("/invoices", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_pages_follow_the_cursor_and_the_link_header_each_invoice_once(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    contracts = [accepted(services, complete_cerfa, f"C-{n}") for n in range(2)]
    made = [create(client, cfa, contracts[n // 3], f"P-{n}", n % 3 + 1) for n in range(5)]
    services.worker.project_once()
    seen: list[str] = []
    url = "/invoices?limit=2"
    while url:
        answer = client.get(url, headers=cfa)
        assert answer.status_code == 200, answer.text
        seen.extend(i["numeroInterneFacture"] for i in answer.json()["items"])
        link = answer.headers.get("Link")
        assert (link is None) == (answer.json()["nextCursor"] is None)
        url = link.split(">")[0].lstrip("<").replace("http://testserver", "") if link else ""
        if seen == ["P-4", "P-3"]:  # between pages: a listed invoice and one not yet listed change
            client.post(f"/invoices/{made[4]['id']}/submission", headers=cfa)
            client.post(f"/invoices/{made[0]['id']}/submission", headers=cfa)
            services.worker.project_once()
    assert seen == ["P-4", "P-3", "P-2", "P-1", "P-0"]
    assert numeros(client, cfa) == ["P-0", "P-4", "P-3", "P-2", "P-1"]  # a new walk: as they are now


def test_filters(client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]) -> None:
    atlas = accepted(services, complete_cerfa, "C-A")
    constructys = accepted(services, complete_cerfa, "C-C", opco=Opco.CONSTRUCTYS)
    drafted = create(client, cfa, atlas, "F-1")
    sent = create(client, cfa, atlas, "F-2", 2)
    parked = create(client, cfa, constructys, "AV-1")
    client.post(f"/invoices/{sent['id']}/submission", headers=cfa)
    send(services, sent["id"])
    client.post(f"/invoices/{parked['id']}/submission", headers=cfa)

    def park(i: Invoice) -> None:
        i.start_transmission("worker")
        i.record_transmission_failure(error="timeout", transient=True, retry_at=None, actor="worker")
        i.park_transmission("too many failures", "worker")

    services.invoices.change_as_worker(UUID(parked["id"]), park)
    services.worker.project_once()

    def sorted_numeros(query: str) -> list[str]:
        return sorted(numeros(client, cfa, query))

    assert sorted_numeros("state=sent") == ["F-2"]
    assert sorted_numeros("state=drafted&state=submitted") == ["AV-1", "F-1"]
    assert sorted_numeros("opco=CONSTRUCTYS") == ["AV-1"]
    assert sorted_numeros(f"contractId={atlas}") == ["F-1", "F-2"]
    assert sorted_numeros("numeroInterneFacture=F-") == ["F-1", "F-2"]
    assert sorted_numeros("numeroInterneFacture=av") == []  # the start, case-sensitive
    assert sorted_numeros("parked=true") == ["AV-1"]
    assert sorted_numeros("parked=false") == ["F-1", "F-2"]
    items = client.get("/invoices", headers=cfa).json()["items"]
    newest = items[0]["updatedAt"]
    assert items[0]["numeroInterneFacture"] == "AV-1"
    assert numeros(client, cfa, f"updatedSince={newest.replace('+', '%2B')}") == ["AV-1"]
    assert [i["parked"] for i in items] == [True, False, False]
    assert items[1]["numeroExterne"] == "FX-9"
    assert items[1]["sentAt"] is not None
    assert drafted["id"] == items[2]["id"]
    for bad in ("state=nowhere", "cursor=not-a-cursor", "limit=501", "limit=0", "contractId=12", "cfaSiret=123"):
        assert client.get(f"/invoices?{bad}", headers=cfa).status_code == 422, bad


def test_a_contracts_cursor_is_not_an_invoices_cursor(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    contract_id = accepted(services, complete_cerfa, "C-1")
    accepted(services, complete_cerfa, "C-2")
    services.worker.project_once()
    contracts_cursor = client.get("/contracts?limit=1", headers=cfa).json()["nextCursor"]
    assert contracts_cursor is not None
    problem = assert_problem(client.get(f"/invoices?cursor={contracts_cursor}", headers=cfa), 422)
    assert problem["errors"][0]["field"] == "cursor"
    create(client, cfa, contract_id, "F-1")
    create(client, cfa, contract_id, "F-2", 2)
    services.worker.project_once()
    cursor = client.get("/invoices?limit=1", headers=cfa).json()["nextCursor"]
    client.post(f"/invoices/{client.get('/invoices', headers=cfa).json()['items'][0]['id']}/submission", headers=cfa)
    services.worker.project_once()
    assert services.invoice_status_view is not None
    services.invoice_status_view.prune(services.invoice_status_view.position(services.dossiers.name))
    assert_problem(client.get(f"/invoices?limit=1&cursor={cursor}", headers=cfa), 410)


def test_read_your_writes(
    client: TestClient,
    services: Container,
    cfa: dict[str, str],
    complete_cerfa: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(invoice_listing, "READ_YOUR_WRITES_SECONDS", 0.2)
    contract_id = accepted(services, complete_cerfa, "C-1")
    created = post_invoice(client, cfa, contract_id, "F-1", amount="10.00")
    position = created.headers["X-Position"]
    behind = assert_problem(client.get(f"/invoices?minPosition={position}", headers=cfa), 503)
    assert behind["type"] == "urn:convergence:problem:read-model-behind"
    assert client.get(f"/invoices?minPosition={position}", headers=cfa).headers["Retry-After"] == "1"
    services.worker.project_once()
    caught_up = client.get(f"/invoices?minPosition={position}", headers=cfa)
    assert caught_up.status_code == 200
    assert [i["id"] for i in caught_up.json()["items"]] == [created.json()["id"]]
    assert int(caught_up.headers["X-Position"]) >= int(position)


def refuse(services: Container, invoice_id: str) -> None:
    def refused(i: Invoice) -> None:
        i.start_transmission("worker")
        i.record_refusal(["échéance inconnue"], "worker")

    services.invoices.change_as_worker(UUID(invoice_id), refused)


def on(services: Container, today: date) -> None:
    """The invoices' queries as if today were `today` (the events keep their real time)."""
    assert services.invoice_status_view is not None
    policy = InvoiceAttentionPolicy(echeance_days=30)
    services.invoice_status = InvoiceStatusQueries(
        services.invoice_status_view, FixedClock(today), services.dossiers.name, policy
    )


def test_the_dashboard_and_attention_show_the_invoices_and_the_echeances(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    contract_id = accepted(services, complete_cerfa, "C-1")  # échéances of 1000.00 opened 60, 40, 20 days ago
    sent = create(client, cfa, contract_id, "F-1", 1, "600.00")
    client.post(f"/invoices/{sent['id']}/submission", headers=cfa)
    send(services, sent["id"])
    refused = create(client, cfa, contract_id, "F-2", 2, "400.00")
    client.post(f"/invoices/{refused['id']}/submission", headers=cfa)
    refuse(services, refused["id"])
    services.worker.project_once()
    sent_at = client.get("/invoices?state=sent", headers=cfa).json()["items"][0]["sentAt"]
    sent_on = datetime.fromisoformat(sent_at).astimezone(PARIS).date()  # the payment delay counts in France
    assert services.invoice_status_view is not None
    position = services.invoice_status_view.position(services.dossiers.name)

    on(services, sent_on + timedelta(days=31))
    board = client.get("/dashboard", headers=cfa)
    assert board.status_code == 200, board.text
    assert board.json()["counts"] == {"accepted": {"ATLAS": 1}}  # the contracts' figures are still there
    assert board.json()["invoices"] == {
        "byState": {
            "sent": {"count": 1, "amount": "600.00", "paid": "0.00"},
            "refused": {"count": 1, "amount": "400.00", "paid": "0.00"},
        },
        "invoiced": "600.00",
        "paid": "0.00",
        "unpaid": "600.00",
        "overdue": {"count": 1, "amount": "600.00", "oldestSentOn": sent_on.isoformat()},
        # échéance 2 (its invoice refused) and 3
        "echeancesNotInvoiced": {"count": 2, "amount": "2000.00", "oldestOpeningDate": OPENS[1]},
        "parked": 0,
        "paymentDays": 30,
        "asOf": position,
    }
    attention = client.get("/attention", headers=cfa)
    assert attention.status_code == 200, attention.text
    items = attention.json()
    assert [(i["kind"], i.get("numeroInterneFacture"), i.get("numeroEcheance"), i["reasons"]) for i in items] == [
        ("invoice", "F-1", None, ["invoice_unpaid"]),
        ("invoice", "F-2", None, ["invoice_refused"]),
        ("echeance", None, 2, ["echeance_not_invoiced"]),
        ("echeance", None, 3, ["echeance_not_invoiced"]),
    ]
    assert items[0]["unpaid"] == "600.00"
    assert items[2] == {
        "kind": "echeance",
        "contractId": contract_id,
        "numeroInterne": "C-1",
        "numeroExterne": "EXT-C-1",
        "cfaSiret": CFA,
        "opco": "ATLAS",
        "apprenticeName": "MARTIN Léa",
        "employerName": "Nébula Conseil",
        "numeroEcheance": 2,
        "codification": "E2",
        "montantTotal": "1000.00",
        "invoiced": "0.00",
        "paid": "0.00",
        "remaining": "1000.00",
        "opensOn": OPENS[1],
        "pendingInvoice": None,
        "reasons": ["echeance_not_invoiced"],
    }

    on(services, sent_on + timedelta(days=30))
    assert client.get("/dashboard", headers=cfa).json()["invoices"]["overdue"] == {
        "count": 0,
        "amount": "0.00",
        "oldestSentOn": None,
    }
    kinds = [(i["kind"], i["reasons"]) for i in client.get("/attention", headers=cfa).json()]
    assert ("invoice", ["invoice_unpaid"]) not in kinds
    assert ("invoice", ["invoice_refused"]) in kinds
    other = token(client, OTHER_CFA)
    assert client.get("/attention", headers=other).json() == []
    assert client.get("/dashboard", headers=other).json()["invoices"]["byState"] == {}
    assert client.get("/dashboard", headers=OPERATOR).json()["invoices"]["invoiced"] == "600.00"


def test_the_dashboard_waits_for_the_invoices_read_model_too(
    client: TestClient,
    services: Container,
    cfa: dict[str, str],
    complete_cerfa: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(invoice_listing, "READ_YOUR_WRITES_SECONDS", 0.2)
    contract_id = accepted(services, complete_cerfa, "C-1")
    answer = post_invoice(client, cfa, contract_id, "F-1", amount="10.00")
    position = answer.headers["X-Position"]
    services.worker.read_models["status"].catch_up()  # the contracts' read model is there, the invoices' not yet
    for route in ("/dashboard", "/attention"):
        assert_problem(client.get(f"{route}?minPosition={position}", headers=cfa), 503)
    services.worker.project_once()
    board = client.get(f"/dashboard?minPosition={position}", headers=cfa)
    assert board.status_code == 200
    assert board.json()["invoices"]["byState"] == {"drafted": {"count": 1, "amount": "10.00", "paid": "0.00"}}


def test_the_openapi_document_describes_the_invoices_read_side(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    listing = document["paths"]["/invoices"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "state",
        "opco",
        "contractId",
        "numeroInterneFacture",
        "updatedSince",
        "parked",
        "cfaSiret",
        "limit",
        "cursor",
        "minPosition",
        "X-Acting-Person",  # every authenticated operation's (docs/audit.md)
    }
    assert "post" in document["paths"]["/invoices"]
    assert "invoices" in document["components"]["schemas"]["DashboardOut"]["properties"]
    assert {"InvoiceAttentionOut", "EcheanceAttentionOut", "InvoicePageOut"} <= set(document["components"]["schemas"])
