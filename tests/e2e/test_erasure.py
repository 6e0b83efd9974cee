"""The running service over HTTP, on both stores: a dossier's personal data are erased by an admin, the erasure
survives a restart, the dossier still reads without the personal data; and `convergence retention apply
--dry-run` lists a dossier past its retention."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.service import Service
from tests.e2e.test_service import cfa_client
from tests.support import MANDATE, with_changes


def test_an_admin_erases_a_dossier_over_http_and_it_stays_erased_after_a_restart(
    service: Service, complete_cerfa: dict[str, Any]
) -> None:
    cfa = complete_cerfa["organismeFormation"]["siret"]
    http, admin = cfa_client(service, cfa), cfa_client(service, cfa, "admin")
    ended = with_changes(complete_cerfa, contrat={**complete_cerfa["contrat"], "dateFinContrat": "2027-08-31"})
    ident = http.post("/contracts", json={"numeroInterne": "ERASE-1", "cerfa": ended}).json()["id"]
    assert http.post(f"/contracts/{ident}/mandate", json=MANDATE).status_code in (200, 201)

    due = service.cli("retention", "apply", "--dry-run", "--today", "2033-01-01")
    assert [json.loads(line)["wouldErase"]["contractId"] for line in due.splitlines()] == [ident]
    assert http.post(f"/contracts/{ident}/erasure").status_code == 403  # a frontend token may not
    erased = admin.post(f"/contracts/{ident}/erasure", headers={"Idempotency-Key": "erase-e2e"})
    assert erased.status_code == 200, erased.text
    assert erased.json()["alreadyErased"] is False

    service.stop()
    service.start()
    dossier = http.get(f"/contracts/{ident}").json()
    assert "nir" not in dossier["cerfa"]["apprenti"]
    assert dossier["cerfa"]["contrat"]["dateFinContrat"] == "2027-08-31"
    history = http.get(f"/contracts/{ident}/events")
    assert complete_cerfa["apprenti"]["nir"] not in history.text
    assert history.json()[-1]["type"] == "PersonalDataErased"
    assert service.cli("retention", "apply", "--dry-run", "--today", "2033-01-01") == ""
    again = admin.post(f"/contracts/{ident}/erasure")
    assert (again.status_code, again.json()["alreadyErased"]) == (200, True)
