"""The running service with its mounted sandbox and worker: an accepted contract is terminated over HTTP, the
rupture reaches the OPCO once, and the contract ends `terminated` with its history, lists and dashboard showing it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.service import Service
from tests.e2e.test_to_the_opco import FAST_SANDBOX, wait_for
from tests.support import MANDATE


@pytest.fixture
def running(database_url: str, tmp_path: Path) -> Iterator[Service]:
    service = Service(database_url, tmp_path, env=FAST_SANDBOX)
    service.start()
    try:
        yield service
    finally:
        service.stop()


def eventually(read: Callable[[], Any], done: Callable[[Any], bool], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_an_accepted_contract_terminated_over_http_reaches_the_opco(
    running: Service, complete_cerfa: dict[str, Any]
) -> None:
    cfa = complete_cerfa["organismeFormation"]["siret"]
    issued = json.loads(running.cli("tokens", "create", "--cfa-siret", cfa, "--role", "admin"))
    http = httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {issued['token']}"}, timeout=30)
    dossier = http.post("/contracts", json={"numeroInterne": "E2E-RUPT-1", "cerfa": complete_cerfa}).json()
    http.post(f"/contracts/{dossier['id']}/mandate", json=MANDATE)
    http.post(f"/contracts/{dossier['id']}/submission")
    assert wait_for(http, f"/contracts/{dossier['id']}", {"accepted", "refused"})["state"] == "accepted"

    body = {
        "dateEffetRupture": "2026-11-20",
        "motif": "commun_accord",
        "initiative": "commun",
        "dateSignalement": "2026-11-21",
    }
    declared = http.post(f"/contracts/{dossier['id']}/rupture", json=body, headers={"Idempotency-Key": "rupt-1"})
    assert declared.status_code == 202, declared.text
    again = http.post(f"/contracts/{dossier['id']}/rupture", json=body, headers={"Idempotency-Key": "rupt-1"})
    assert again.headers.get("Idempotent-Replayed") == "true"

    ended = wait_for(http, f"/contracts/{dossier['id']}", {"terminated"})
    assert (ended["state"], ended["opcoState"]) == ("terminated", "RUPTU")
    assert ended["rupture"]["transmission"]["state"] == "sent"
    assert ended["rupture"]["lastInvoiceBy"] == "2027-03-20"

    history = http.get(f"/contracts/{dossier['id']}/rupture").json()["events"]
    steps = [(e["type"], e["actor"]) for e in history]
    assert ("Declared", f"token:{issued['id']}") in steps
    assert [t for t, _ in steps].count("Sent") == 1
    assert all(actor == "worker" for t, actor in steps if t in {"TransmissionStarted", "Sent"})

    listed = eventually(lambda: http.get("/ruptures").json(), lambda rows: rows and rows[0]["state"] == "sent")
    assert [(r["numeroInterne"], r["state"]) for r in listed] == [("E2E-RUPT-1", "sent")]
    assert http.get("/dashboard").json()["ruptures"]["byState"] == {"sent": 1}
