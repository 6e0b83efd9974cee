"""The running service imports an accepted dossier deposited at ATLAS some other way (its mounted sandbox holds it)
over the REST API: a dry run, the import, the dossier listed with `origin: imported`, then invoiced until paid."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import httpx

from domain.contracts.cerfa_document import parse_cerfa
from domain.opco.opcos import Opco
from infrastructure.opco.opco_wire import dossier_body, encode, wire_variant
from tests.e2e.service import Service
from tests.e2e.test_invoices_to_paid import wait_all
from tests.e2e.test_to_the_opco import service_with_worker  # noqa: F401  (the fixture)
from tests.invoicing import PROFILE
from tests.support import OPERATOR_TOKEN


def finished(http: httpx.Client, location: str, seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        run: dict[str, Any] = http.get(location).json()
        if run["status"] != "running" or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def test_an_accepted_dossier_deposited_elsewhere_is_imported_and_listed(
    service_with_worker: Service,  # noqa: F811
    complete_cerfa: dict[str, Any],
) -> None:
    service = service_with_worker
    cfa = complete_cerfa["organismeFormation"]["siret"]
    body = json.loads(encode(dossier_body("x", parse_cerfa(complete_cerfa), wire_variant(Opco.ATLAS))))
    seeded = httpx.post(
        f"{service.url}/sandbox/_sandbox/dossiers/elsewhere",
        json={"opco": "ATLAS", "siret": cfa, "dossiers": [{"dossier": body}]},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    assert seeded.status_code == 201, seeded.text
    [portal] = seeded.json()
    assert (portal["numeroInterne"], portal["etat"]) == (None, "ENGAGE")

    issued = json.loads(service.cli("tokens", "create", "--cfa-siret", cfa, "--role", "admin"))
    http = httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {issued['token']}"}, timeout=30)
    route = f"/cfas/{cfa}/opcos/ATLAS/imports"
    dry = http.post(route, params={"dryRun": "true"}, headers={"Idempotency-Key": "e2e-dry"})
    assert dry.status_code == 202, dry.text
    assert finished(http, dry.headers["Location"])["counts"] == {"created": 1, "matched": 0, "conflicts": 0}
    real = http.post(route, json={"dryRun": False}, headers={"Idempotency-Key": "e2e-real"})
    assert real.status_code == 202, real.text
    run = finished(http, real.headers["Location"])
    assert (run["status"], run["counts"]) == ("finished", {"created": 1, "matched": 0, "conflicts": 0})

    deadline = time.monotonic() + 30
    items: list[dict[str, Any]] = []
    while not items and time.monotonic() < deadline:
        items = http.get("/contracts", params={"origin": "imported"}).json()["items"]
        time.sleep(0.2)
    [item] = items
    assert (item["origin"], item["state"], item["opco"], item["numeroExterne"]) == (
        "imported",
        "accepted",
        "ATLAS",
        portal["numeroExterne"],
    )
    dossier = http.get(f"/contracts/{item['id']}").json()
    assert (dossier["origin"], dossier["mandate"], dossier["problems"]) == ("imported", None, [])
    assert dossier["echeances"]
    assert dossier["commitment"]
    events = [e["type"] for e in http.get(f"/contracts/{item['id']}/events").json()]
    assert events[:2] == ["Imported", "FundingCommitted"]
    assert http.get("/contracts", params={"origin": "sent"}).json()["items"] == []

    # invoiced like the dossiers sent from here: its first échéance, to paid
    assert http.put(f"/cfas/{cfa}/profile", json=PROFILE).status_code == 200
    first = dossier["echeances"][0]
    line = {"contractId": item["id"], "numeroEcheance": first["numero"], "kind": "pedagogie"}
    invoice = http.post(
        "/invoices",
        json={
            "numeroInterneFacture": "IMP-1",
            "date": date.today().isoformat(),
            "lines": [{**line, "amount": first["montantTotal"]}],
        },
    )
    assert invoice.status_code == 201, invoice.text
    assert http.post(f"/invoices/{invoice.json()['id']}/submission").status_code == 202
    paid = wait_all(http, [invoice.json()["id"]], "paid")[0]
    assert paid["state"] == "paid", paid["transmission"]
    assert paid["opcoNumeroInterneFacture"]
