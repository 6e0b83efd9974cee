"""The audit of a running service (SQLite and PostgreSQL): a dossier sent by the worker, its audit file downloaded
over HTTP and checked offline by `convergence audit check` and by the script of docs/audit.md, and `convergence
audit verify` run beside the serving process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.service import BIN, Service, service_env
from tests.e2e.test_to_the_opco import FAST_SANDBOX

DOCS = Path(__file__).resolve().parents[2] / "docs" / "audit.md"
MANDATE = {"signedOn": "2026-06-15", "signatory": {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}}


@pytest.fixture
def running(database_url: str, tmp_path: Path) -> Iterator[Service]:
    service = Service(database_url, tmp_path, env=FAST_SANDBOX)  # its worker sends the dossier to the mounted sandbox
    service.start()
    try:
        yield service
    finally:
        service.stop()


def command(service: Service, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "convergence"), *args],
        cwd=service.workdir, env=service_env(service.database_url, service.env), capture_output=True, text=True,
    )  # fmt: skip


def token(service: Service, siret: str, role: str) -> dict[str, str]:
    issued = json.loads(service.cli("tokens", "create", "--cfa-siret", siret, "--role", role, "--name", role))
    return {"Authorization": f"Bearer {issued['token']}"}


def sent_dossier(service: Service, document: dict[str, Any], headers: dict[str, str]) -> str:
    with httpx.Client(base_url=service.url, headers=headers, timeout=30) as http:
        created = http.post("/contracts", json={"numeroInterne": "AUDIT-1", "cerfa": document})
        assert created.status_code == 201, created.text
        ident = str(created.json()["id"])
        assert http.post(f"/contracts/{ident}/mandate", json=MANDATE).status_code in (200, 201)
        assert http.post(f"/contracts/{ident}/submission").status_code == 202
        deadline = time.monotonic() + 60
        while http.get(f"/contracts/{ident}").json()["state"] != "sent":
            assert time.monotonic() < deadline, "the worker did not send the dossier"
            time.sleep(0.3)
    return ident


def test_an_audit_file_downloaded_checks_offline_and_the_live_store_verifies(
    running: Service, complete_cerfa: dict[str, Any], tmp_path: Path
) -> None:
    siret = complete_cerfa["organismeFormation"]["siret"]
    ident = sent_dossier(running, complete_cerfa, token(running, siret, "frontend"))
    answer = httpx.get(f"{running.url}/contracts/{ident}/audit", headers=token(running, siret, "auditor"), timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == f'attachment; filename="audit-{ident}.json"'
    document = answer.json()
    topics = [event["topic"] for event in document["events"]]
    assert any(topic.endswith("TransmissionStarted") for topic in topics)  # the worker's events are in it
    saved = tmp_path / "audit.json"
    saved.write_bytes(answer.content)

    checked = command(running, "audit", "check", str(saved), "--anchor", document["latestCheckpoint"]["digest"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    script = tmp_path / "check_audit.py"
    script.write_text(re.search(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)[1])  # type: ignore[index]
    by_hand = subprocess.run([sys.executable, str(script), str(saved)], capture_output=True, text=True)
    assert by_hand.returncode == 0, by_hand.stderr
    assert document["latestCheckpoint"]["digest"] in by_hand.stdout

    verified = command(running, "audit", "verify")  # beside the serving process, which goes on
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "no discrepancy" in verified.stdout

    tampered = json.loads(saved.read_text())
    tampered["events"][0]["topic"] = tampered["events"][1]["topic"]
    saved.write_text(json.dumps(tampered))
    assert command(running, "audit", "check", str(saved)).returncode == 1
    assert subprocess.run([sys.executable, str(script), str(saved)], capture_output=True).returncode == 1
