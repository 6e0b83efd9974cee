"""The running service with its mounted sandbox and its worker: a convention uploaded over HTTP on a contract at
its OPCO, and a certificat made from the dossier, each reach `sent`, once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.service import Service
from tests.e2e.test_to_the_opco import FAST_SANDBOX, wait_for
from tests.support import MANDATE

PDF = b"%PDF-1.4\n% convention de formation signee\n%%EOF\n"


@pytest.fixture
def service_with_worker(database_url: str, tmp_path: Path) -> Iterator[Service]:
    running = Service(database_url, tmp_path, env=FAST_SANDBOX)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def wait_for_document(http: httpx.Client, url: str, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        document: dict[str, Any] = next(d for d in http.get(url).json())
        if document["state"] != "submitted" or time.monotonic() > deadline:
            return document
        time.sleep(0.2)


def test_a_convention_uploaded_over_http_reaches_sent(
    service_with_worker: Service, complete_cerfa: dict[str, Any]
) -> None:
    cfa = complete_cerfa["organismeFormation"]["siret"]
    issued = json.loads(service_with_worker.cli("tokens", "create", "--cfa-siret", cfa, "--role", "admin"))
    http = httpx.Client(
        base_url=service_with_worker.url, headers={"Authorization": f"Bearer {issued['token']}"}, timeout=30
    )
    dossier = http.post("/contracts", json={"numeroInterne": "E2E-DOC-1", "cerfa": complete_cerfa}).json()
    http.post(f"/contracts/{dossier['id']}/mandate", json=MANDATE)
    assert http.post(f"/contracts/{dossier['id']}/submission").status_code == 202
    sent = wait_for(http, f"/contracts/{dossier['id']}", {"sent", "in_review", "accepted", "refused"})
    assert sent["state"] in {"sent", "in_review", "accepted"}, sent["transmission"]

    uploaded = http.post(
        f"/contracts/{dossier['id']}/documents",
        data={"type": "CONVENTION_FORMATION"},
        files={"document": ("convention.pdf", PDF, "application/pdf")},
        headers={"Idempotency-Key": "e2e-convention-1"},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["route"] == "conventions"

    document = wait_for_document(http, f"/contracts/{dossier['id']}/documents")
    assert document["state"] == "sent", document["transmission"]
    assert document["opcoAnswer"]["numeroInterneDocument"].startswith("DOC-")
    assert [a["outcome"] for a in document["transmission"]["history"]] == ["sent"]
