"""The running service over HTTP, on a SQLite file and on PostgreSQL: the README's path and its guarantees."""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.e2e.service import Service
from tests.support import MANDATE

THREADS = 12
LETTERS = "abcdefghijklmnopqrstuvwxyz"  # Cerfa names hold letters only


def cfa_client(service: Service, cfa_siret: str, role: str = "frontend") -> httpx.Client:
    issued = json.loads(service.cli("tokens", "create", "--cfa-siret", cfa_siret, "--role", role, "--name", "e2e"))
    assert issued["token"].startswith("cvg_")
    return httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {issued['token']}"}, timeout=30)


def test_draft_to_submission_and_back_after_a_restart(
    service: Service, draft_cerfa: dict[str, Any], complete_cerfa: dict[str, Any]
) -> None:
    http = cfa_client(service, complete_cerfa["organismeFormation"]["siret"])
    created = http.post("/contracts", json={"numeroInterne": "E2E-1", "cerfa": draft_cerfa})
    assert created.status_code == 201, created.text
    dossier = created.json()
    assert len(dossier["problems"]) > 1

    completed = http.put(f"/contracts/{dossier['id']}/cerfa", json=complete_cerfa, headers={"If-Match": '"1"'})
    assert completed.status_code == 200, completed.text
    assert [p["code"] for p in completed.json()["problems"]] == ["mandate_missing"]
    assert http.post(f"/contracts/{dossier['id']}/mandate", json=MANDATE).json()["problems"] == []
    submitted = http.post(f"/contracts/{dossier['id']}/submission")
    assert submitted.status_code == 202, submitted.text

    service.stop()
    service.start()
    again = http.get(f"/contracts/{dossier['id']}")
    assert again.status_code == 200
    assert (again.json()["state"], again.headers["ETag"]) == ("submitted", '"4"')


def test_concurrent_patches_one_wins_per_version(service: Service, complete_cerfa: dict[str, Any]) -> None:
    http = cfa_client(service, complete_cerfa["organismeFormation"]["siret"])
    dossier = http.post("/contracts", json={"cerfa": complete_cerfa}).json()
    barrier = threading.Barrier(THREADS)

    def patch(n: int) -> int:
        barrier.wait()
        response = http.patch(
            f"/contracts/{dossier['id']}/cerfa",
            json={"apprenti": {"nomUsage": f"Durand-{LETTERS[n]}"}},
            headers={"If-Match": '"1"'},
        )
        return response.status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = Counter(pool.map(patch, range(THREADS)))
    assert statuses == Counter({200: 1, 412: THREADS - 1})
    events = http.get(f"/contracts/{dossier['id']}/events").json()
    assert [e["version"] for e in events] == [1, 2]


def test_a_token_sees_only_its_cfa(service: Service, complete_cerfa: dict[str, Any]) -> None:
    mine = cfa_client(service, complete_cerfa["organismeFormation"]["siret"])
    theirs = cfa_client(service, "73282932000074")
    dossier = mine.post("/contracts", json={"cerfa": complete_cerfa}).json()
    assert theirs.get(f"/contracts/{dossier['id']}").status_code == 404
    assert mine.get(f"/contracts/{dossier['id']}").status_code == 200
