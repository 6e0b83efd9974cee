"""The running service with its mounted sandbox and its worker, over HTTP: a contract accepted by the sandbox is
invoiced échéance by échéance through the REST API until every échéance is paid (the sandbox pays in two steps),
through the sandbox's faults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.service import Service
from tests.e2e.test_to_the_opco import FAST_SANDBOX, wait_for
from tests.invoicing import PROFILE, years_earlier
from tests.support import MANDATE, OPERATOR_TOKEN

FAST_INVOICES = {
    **FAST_SANDBOX,
    "CONVERGENCE_SANDBOX_INVOICE_DELAY": "0.2",
    "CONVERGENCE_SANDBOX_PARTIAL_PAYMENT": "true",
}


@pytest.fixture
def service_paying(database_url: str, tmp_path: Path) -> Iterator[Service]:
    running = Service(database_url, tmp_path, env=FAST_INVOICES)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def client(service: Service, cfa: str) -> httpx.Client:
    issued = json.loads(service.cli("tokens", "create", "--cfa-siret", cfa, "--role", "admin"))
    return httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {issued['token']}"}, timeout=30)


def accepted(http: httpx.Client, cerfa: dict[str, Any], mandate: dict[str, Any] = MANDATE) -> dict[str, Any]:
    dossier = http.post("/contracts", json={"numeroInterne": "E2E-INV-1", "cerfa": cerfa, "npec": "7000"}).json()
    profile = http.put(f"/cfas/{dossier['cfaSiret']}/profile", json=PROFILE)
    assert profile.status_code == 200, profile.text
    http.post(f"/contracts/{dossier['id']}/mandate", json=mandate)
    assert http.post(f"/contracts/{dossier['id']}/submission").status_code == 202
    contract = wait_for(http, f"/contracts/{dossier['id']}", {"accepted", "refused"})
    assert contract["state"] == "accepted", contract["transmission"]
    return contract


def wait_all(http: httpx.Client, ids: list[str], state: str, seconds: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while True:
        invoices = [http.get(f"/invoices/{ident}").json() for ident in ids]
        if all(i["state"] == state for i in invoices) or time.monotonic() > deadline:
            return invoices
        time.sleep(0.3)


def test_every_echeance_invoiced_until_paid(service_paying: Service, complete_cerfa: dict[str, Any]) -> None:
    cerfa = years_earlier(complete_cerfa, 2)  # a contract that ended three months ago: every échéance is open
    http = client(service_paying, cerfa["organismeFormation"]["siret"])
    contract = accepted(http, cerfa)
    faults = {"errorRate": 0.15, "rateLimitRate": 0.05, "retryAfterSeconds": 0, "resetRate": 0.1, "seed": 5}
    httpx.put(
        f"{service_paying.url}/sandbox/_sandbox/faults",
        json=faults,
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    ).raise_for_status()  # half after store
    ids = []
    for echeance in contract["echeances"]:
        numero = f"E2E-FAC-{echeance['numero']}"
        body = {
            "numeroInterneFacture": numero,
            "date": time.strftime("%Y-%m-%d"),
            "lines": [
                {
                    "contractId": contract["id"],
                    "numeroEcheance": echeance["numero"],
                    "kind": "pedagogie",
                    "amount": echeance["montantTotal"],
                }
            ],
        }
        created = http.post("/invoices", json=body, headers={"Idempotency-Key": numero})
        assert created.status_code == 201, created.text
        submitted = http.post(f"/invoices/{created.json()['id']}/submission")
        assert submitted.status_code == 202, submitted.text
        ids.append(created.json()["id"])

    paid = wait_all(http, ids, "paid")
    stats = httpx.get(
        f"{service_paying.url}/sandbox/_sandbox/stats", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    ).json()
    assert sorted(stats["invoicesStored"].values()) == [1] * len(ids)  # each stored once, whatever the faults
    assert sum(stats["faultsInjected"].values()) > 0
    assert [i["state"] for i in paid] == ["paid"] * len(ids), [i["transmission"] for i in paid]
    # paid in two steps (REGLE_PARTIEL, then REGLE): one payment or two recorded, as the sync saw them, adding up
    assert [sum(Decimal(p["amount"]) for p in i["payments"]) for i in paid] == [Decimal(i["amount"]) for i in paid]
    assert {i["unpaid"] for i in paid} == {"0.00"}
    assert {i["paymentsReportedBy"] for i in paid} == {"opco"}

    funding = http.get(f"/contracts/{contract['id']}/funding").json()
    assert funding["totals"]["paid"] == funding["totals"]["invoiced"] == funding["totals"]["opcoTotal"]
    assert funding["totals"]["pending"] == "0.00"
    events = [e["type"] for e in http.get(f"/invoices/{ids[0]}/events").json()]
    assert (events.count("Sent"), events.count("PaymentRecorded") in (1, 2)) == (1, True)
    more = {
        "numeroInterneFacture": "E2E-FAC-X",
        "date": time.strftime("%Y-%m-%d"),
        "lines": [{"contractId": contract["id"], "numeroEcheance": 1, "kind": "pedagogie", "amount": "0.01"}],
    }
    refused = http.post("/invoices", json=more)
    assert refused.status_code == 422  # nothing remains on a paid échéance
    assert refused.json()["errors"][0]["code"] == "amount_exceeds_remaining"
