"""The running service with its mounted sandbox and worker: over HTTP a CFA amends one accepted contract and
terminates another; each reaches the OPCO exactly once, and the lists, the dashboard and the history show both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.service import Service
from tests.e2e.test_rupture_to_the_opco import eventually
from tests.e2e.test_to_the_opco import FAST_SANDBOX, wait_for
from tests.support import MANDATE, OPERATOR_TOKEN


@pytest.fixture
def running(database_url: str, tmp_path: Path) -> Iterator[Service]:
    service = Service(database_url, tmp_path, env=FAST_SANDBOX)
    service.start()
    try:
        yield service
    finally:
        service.stop()


def accepted(http: httpx.Client, numero: str, cerfa: dict[str, Any]) -> dict[str, Any]:
    dossier = http.post("/contracts", json={"numeroInterne": numero, "cerfa": cerfa}).json()
    http.post(f"/contracts/{dossier['id']}/mandate", json=MANDATE)
    http.post(f"/contracts/{dossier['id']}/submission")
    done: dict[str, Any] = wait_for(http, f"/contracts/{dossier['id']}", {"accepted", "refused"})
    assert done["state"] == "accepted"
    return done


def test_a_cfa_amends_one_contract_and_terminates_another(running: Service, complete_cerfa: dict[str, Any]) -> None:
    cfa = complete_cerfa["organismeFormation"]["siret"]
    issued = json.loads(running.cli("tokens", "create", "--cfa-siret", cfa, "--role", "admin"))
    http = httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {issued['token']}"}, timeout=30)
    amended, ended = accepted(http, "E2E-AV-1", complete_cerfa), accepted(http, "E2E-AV-2", complete_cerfa)
    contract = f"/contracts/{amended['id']}"

    body = {
        "typeContratApp": 36,
        "dateEffetAvenant": "2027-01-04",
        "changes": {"maitre1": {"nom": "Bernard", "prenom": "Luc"}},
        "mandate": {"signedOn": "2026-10-01", "signatory": MANDATE["signatory"]},
    }
    refused = http.post(f"{contract}/amendments", json={**body, "changes": {"formation": {"rncp": "RNCP1"}}})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "field_not_amendable"
    stale = http.post(f"{contract}/amendments", json=body, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    made = http.post(f"{contract}/amendments", json=body, headers={"Idempotency-Key": "av-1"})
    assert made.status_code == 201, made.text
    assert made.headers["Location"] == f"{contract}/amendments/1"
    again = http.post(f"{contract}/amendments", json=body, headers={"Idempotency-Key": "av-1"})
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert made.json()["problems"] == []
    assert http.post(f"{contract}/amendments/1/submission").status_code == 202

    rupture = {"dateEffetRupture": "2026-11-20", "motif": "commun_accord", "initiative": "commun"}
    assert http.post(f"/contracts/{ended['id']}/rupture", json=rupture).status_code == 202

    done = eventually(lambda: http.get(f"{contract}/amendments/1").json(), lambda a: a["state"] == "accepted", 60)
    assert (done["state"], done["answerShape"], done["noAvenant"]) == ("accepted", "new_dossier", "1")
    assert done["numeroDeca"] == amended["numeroDeca"]
    steps = [(e["type"], e["actor"]) for e in done["events"]]
    assert ("Requested", f"token:{issued['id']}") in steps
    assert [t for t, _ in steps].count("Sent") == 1
    assert wait_for(http, f"/contracts/{ended['id']}", {"terminated"})["state"] == "terminated"

    assert http.get(contract, params={"at": "2027-01-03"}).json()["cerfa"]["maitre1"]["nom"] != "Bernard"
    as_of = http.get(contract, params={"at": "2027-01-04"}).json()
    assert (as_of["cerfa"]["maitre1"]["nom"], as_of["amendmentsInEffect"]) == ("Bernard", [1])

    listed = eventually(
        lambda: http.get("/contracts", params={"amendment": "accepted"}).json()["items"], lambda items: len(items) == 1
    )
    assert [i["numeroInterne"] for i in listed] == ["E2E-AV-1"]
    ruptured = http.get("/contracts", params={"rupture": "true"}).json()["items"]
    assert [i["numeroInterne"] for i in ruptured] == ["E2E-AV-2"]
    board = eventually(lambda: http.get("/dashboard").json(), lambda b: b["amendments"]["total"] == 1)
    assert board["amendments"]["byState"] == {"accepted": 1}
    assert board["ruptures"]["total"] == 1
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    stats = http.get("/sandbox/_sandbox/stats", headers=operator).json()
    assert stats["stored"]["ATLAS/E2E-AV-1-AV1"] == 1  # the avenant, once
    ruptures = http.get("/sandbox/_sandbox/ruptures", headers=operator).json()
    assert (ruptures["posts"], [r["numeroInterne"] for r in ruptures["ruptures"]]) == (1, ["E2E-AV-2"])  # once
