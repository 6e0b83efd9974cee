"""The running service with its mounted sandbox and its worker: a dossier goes from draft to `accepted` over HTTP,
with nothing configured but the store, as in the README's worked example."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.service import Service
from tests.support import MANDATE

FAST_SANDBOX = {
    "CONVERGENCE_SANDBOX": "on",
    "CONVERGENCE_SANDBOX_INSTRUCTION_DELAY": "0.3",
    "CONVERGENCE_SANDBOX_DECISION_DELAY": "0.3",
    "CONVERGENCE_SYNC_INTERVAL_SECONDS": "0.5",
    "CONVERGENCE_SENDER_POLL_SECONDS": "0.2",
    "CONVERGENCE_PROJECTION_POLL_SECONDS": "0.1",
}


@pytest.fixture
def service_with_worker(database_url: str, tmp_path: Path) -> Iterator[Service]:
    running = Service(database_url, tmp_path, env=FAST_SANDBOX)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def wait_for(http: httpx.Client, url: str, states: set[str], seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        dossier: dict[str, Any] = http.get(url).json()
        if dossier["state"] in states or time.monotonic() > deadline:
            return dossier
        time.sleep(0.2)


def test_from_draft_to_accepted_through_the_sandbox(
    service_with_worker: Service, complete_cerfa: dict[str, Any]
) -> None:
    cfa = complete_cerfa["organismeFormation"]["siret"]
    issued = json.loads(service_with_worker.cli("tokens", "create", "--cfa-siret", cfa, "--role", "admin"))
    http = httpx.Client(
        base_url=service_with_worker.url, headers={"Authorization": f"Bearer {issued['token']}"}, timeout=30
    )
    dossier = http.post("/contracts", json={"numeroInterne": "E2E-OPCO-1", "cerfa": complete_cerfa}).json()
    http.post(f"/contracts/{dossier['id']}/mandate", json=MANDATE)
    assert http.post(f"/contracts/{dossier['id']}/submission").status_code == 202

    accepted = wait_for(http, f"/contracts/{dossier['id']}", {"accepted", "refused"})
    assert accepted["state"] == "accepted", accepted["transmission"]
    assert accepted["opcoState"] == "ENGAGE"
    assert accepted["numeroExterne"]
    assert accepted["numeroDeca"]
    assert accepted["echeances"]
    assert accepted["commitment"]
    assert [a["outcome"] for a in accepted["transmission"]["history"]] == ["sent"]

    atlas = next(a for a in http.get(f"/cfas/{cfa}/opcos").json() if a["opco"] == "ATLAS")
    assert atlas["keySet"] is True  # the sandbox key, given automatically on the embedded default
    assert atlas["lastContactAt"] is not None
    events = [e["type"] for e in http.get(f"/contracts/{dossier['id']}/events").json()]
    assert (events.count("TransmissionStarted"), events.count("Sent"), events.count("FundingCommitted")) == (1, 1, 1)
    assert events.index("Sent") < events.index("FundingCommitted")


def test_the_embedded_default_without_an_operator_token_keeps_its_sandbox_to_itself(
    sqlite_url: str, tmp_path: Path, complete_cerfa: dict[str, Any]
) -> None:
    """As the README runs it: no CONVERGENCE_ADMIN_TOKEN. The service gives the CFAs their sandbox keys and OAuth
    client with its installation's sandbox token; nobody without that token reads the sandbox's dossiers."""
    running = Service(sqlite_url, tmp_path, env={**FAST_SANDBOX, "CONVERGENCE_ADMIN_TOKEN": ""})
    running.start()
    try:
        stored = f"{running.url}/sandbox/_sandbox/dossiers"
        assert httpx.get(stored).status_code == 401
        assert httpx.get(stored, headers={"Authorization": "Bearer guessed"}).status_code == 403

        cfa = complete_cerfa["organismeFormation"]["siret"]
        issued = json.loads(running.cli("tokens", "create", "--cfa-siret", cfa, "--role", "admin"))
        http = httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {issued['token']}"}, timeout=30)
        ids = []
        for numero, opco in (("E2E-OWN-1", None), ("E2E-OWN-2", "AKTO")):  # AKTO wants a Bearer: the OAuth client
            dossier = http.post("/contracts", json={"numeroInterne": numero, "cerfa": complete_cerfa, "opco": opco})
            ids.append(dossier.json()["id"])
            http.post(f"/contracts/{ids[-1]}/mandate", json=MANDATE)
            assert http.post(f"/contracts/{ids[-1]}/submission").status_code == 202
        for ident in ids:
            accepted = wait_for(http, f"/contracts/{ident}", {"accepted", "refused"})
            assert accepted["state"] == "accepted", accepted["transmission"]

        credentials = json.loads(running.cli("sandbox-credentials"))
        operator = {"Authorization": f"Bearer {credentials['adminToken']}"}
        assert sorted(d["numeroInterne"] for d in httpx.get(stored, headers=operator).json()) == [
            "E2E-OWN-1",
            "E2E-OWN-2",
        ]
        assert credentials["oauthClient"]["clientSecret"] not in {"", "sandbox-secret"}
    finally:
        running.stop()
