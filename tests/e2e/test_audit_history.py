"""The running service over HTTP, on a SQLite file and on PostgreSQL: who did what (the person a front-end names,
the worker), what was sent to the OPCO and answered, and the dossier as it was at a version or a moment."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.e2e.service import Service
from tests.e2e.test_to_the_opco import FAST_SANDBOX, wait_for
from tests.support import MANDATE

PERSON = {"X-Acting-Person": "c.martin@cfa-lyon"}


def client(service: Service, cfa: str, role: str) -> httpx.Client:
    issued = json.loads(service.cli("tokens", "create", "--cfa-siret", cfa, "--role", role, "--name", f"{role}-app"))
    return httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {issued['token']}"}, timeout=30)


def test_the_history_names_the_person_and_the_worker_and_what_the_opco_answered(
    database_url: str, tmp_path: Any, complete_cerfa: dict[str, Any]
) -> None:
    service = Service(database_url, tmp_path, env=FAST_SANDBOX)
    service.start()
    try:
        cfa = complete_cerfa["organismeFormation"]["siret"]
        http, auditor = client(service, cfa, "frontend"), client(service, cfa, "auditor")
        dossier = http.post("/contracts", json={"numeroInterne": "E2E-H-1", "cerfa": complete_cerfa}, headers=PERSON)
        ident = dossier.json()["id"]
        http.post(f"/contracts/{ident}/mandate", json=MANDATE, headers=PERSON)
        assert http.post(f"/contracts/{ident}/submission", headers=PERSON).status_code == 202
        assert wait_for(http, f"/contracts/{ident}", {"accepted", "refused"})["state"] == "accepted"

        history = auditor.get(f"/contracts/{ident}/history").json()
        by_type = {entry["type"]: entry for entry in history}
        assert [e["version"] for e in history] == list(range(1, len(history) + 1))
        for mine in ("Drafted", "MandateRecorded", "SubmissionRequested"):
            actor = by_type[mine]["actor"]
            assert (actor["kind"], actor["name"], actor["person"], actor["cfa"]) == (
                "token",
                "frontend-app",
                "c.martin@cfa-lyon",
                cfa,
            )
        for workers in ("TransmissionStarted", "Sent", "FundingCommitted"):
            assert by_type[workers]["actor"]["kind"] == "worker"
            assert by_type[workers]["actor"]["name"].startswith("worker@")
        answer = by_type["Sent"]["transmission"]
        assert len(answer["sent_sha256"]) == len(answer["answer_sha256"]) == 64
        assert answer["numero_externe"] == http.get(f"/contracts/{ident}").json()["numeroExterne"]
        nir = complete_cerfa["apprenti"]["nir"]
        masked = by_type["Drafted"]["data"]["cerfa"]["apprenti"]["nir"]
        assert masked == "*" * (len(nir) - 2) + nir[-2:]  # an auditor needs no NIR (application/access/exposure.py)
        assert http.get(f"/contracts/{ident}/history").json()[0]["data"]["cerfa"]["apprenti"]["nir"] == nir

        page = http.get(f"/contracts/{ident}/timeline")
        assert page.headers["content-type"].startswith("text/html")
        assert "c.martin@cfa-lyon" in page.text
        assert "Funding committed" in page.text
    finally:
        service.stop()


def test_a_dossier_at_a_version_and_at_a_moment_and_a_bad_person_refused(
    service: Service, complete_cerfa: dict[str, Any]
) -> None:
    http = client(service, complete_cerfa["organismeFormation"]["siret"], "frontend")
    body = {"numeroInterne": "E2E-H-2", "cerfa": complete_cerfa}
    refused = http.post("/contracts", json=body, headers={"X-Acting-Person": "x" * 200})
    assert (refused.status_code, refused.headers["content-type"]) == (422, "application/problem+json")
    assert refused.json()["errors"][0]["field"] == "X-Acting-Person"
    ident = http.post("/contracts", json=body, headers=PERSON).json()["id"]  # nothing was stored by the refusal
    http.post(f"/contracts/{ident}/mandate", json=MANDATE)
    history = http.get(f"/contracts/{ident}/history").json()

    first = http.get(f"/contracts/{ident}", params={"version": 1})
    assert (first.status_code, first.headers["ETag"], first.json()["state"]) == (200, '"1"', "drafted")
    then = http.get(f"/contracts/{ident}", params={"asOf": history[0]["at"]})
    assert (then.status_code, then.json()["mandate"]) == (200, None)
    now = http.get(f"/contracts/{ident}", params={"asOf": history[1]["at"]})
    assert now.headers["ETag"] == '"2"'
    assert http.get(f"/contracts/{ident}", params={"version": 3}).status_code == 404
    assert http.get(f"/contracts/{ident}", params={"asOf": "2026-03-01"}).status_code == 422
