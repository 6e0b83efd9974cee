"""The sandbox's rupture route, driven by httpx as our client would: the dossier reads RUPTU afterwards, a second
rupture and an unknown dossier are refused, an OPCO without the route does not have it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infrastructure.opco.opco_sandbox import SandboxConfig
from tests.integration.sandbox_server import SANDBOX_OPERATOR, running_sandbox, sandbox_headers
from tests.integration.test_sandbox import CFA_SIRET, post, submission

RUPTURE = {
    "dateEffetRupture": "2026-11-20T00:00:00+01:00",
    "codeMotifRupture": "ACCORD_PARTIES",
    "dateSignalement": "2026-11-21T00:00:00+01:00",
}


@pytest.fixture
def sandbox() -> Iterator[httpx.Client]:
    config = SandboxConfig(instruction_delay=0, decision_delay=0)
    with running_sandbox(config) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def rupture(client: httpx.Client, opco: str, headers: dict[str, str], **body: Any) -> httpx.Response:
    return client.post(f"/opcos/{opco}/v2/dossiers/rupture/employeur", json={**RUPTURE, **body}, headers=headers)


def test_a_rupture_turns_the_dossier_ruptu_once(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    headers = sandbox_headers(sandbox, "ATLAS", CFA_SIRET)
    assert post(sandbox, "ATLAS", headers, submission(complete_cerfa, "S-R1")).status_code == 200
    assert (
        sandbox.get("/opcos/ATLAS/v2/dossiers", params={"numeroInterne": "S-R1"}, headers=headers).json()["cerfa"][
            "etat"
        ]
        == "ENGAGE"
    )

    answer = rupture(sandbox, "ATLAS", headers, numeroInterne="S-R1")
    assert answer.status_code == 200, answer.text
    assert answer.json()["etat"] == "RUPTU"
    dossier = sandbox.get("/opcos/ATLAS/v2/dossiers", params={"numeroInterne": "S-R1"}, headers=headers).json()
    assert dossier["cerfa"]["etat"] == "RUPTU"
    states = sandbox.get("/opcos/ATLAS/v2/dossiers/etats", headers=headers).json()["EtatDossierResult"]
    assert [s["etat"] for s in states] == ["RUPTU"]

    again = rupture(sandbox, "ATLAS", headers, numeroInterne="S-R1")
    assert (again.status_code, again.json()["errors"][0]["code"]) == (400, "RUPTURE_EXISTANTE")
    seen = sandbox.get("/_sandbox/ruptures", headers=SANDBOX_OPERATOR).json()
    assert (seen["posts"], len(seen["ruptures"])) == (2, 1)
    assert sandbox.post("/_sandbox/reset", headers=SANDBOX_OPERATOR).status_code == 204
    assert sandbox.get("/_sandbox/ruptures", headers=SANDBOX_OPERATOR).json() == {"posts": 0, "ruptures": []}


def test_unknown_dossiers_missing_fields_and_opcos_without_the_route_are_refused(sandbox: httpx.Client) -> None:
    atlas = sandbox_headers(sandbox, "ATLAS", CFA_SIRET)
    unknown = rupture(sandbox, "ATLAS", atlas, numeroInterne="NOPE")
    assert (unknown.status_code, unknown.json()["errors"][0]["code"]) == (404, "DOSSIER_INCONNU")
    missing = sandbox.post("/opcos/ATLAS/v2/dossiers/rupture/employeur", json={"numeroInterne": "NOPE"}, headers=atlas)
    assert missing.status_code == 400
    assert {e["code"] for e in missing.json()["errors"]} == {
        "DATE_EFFET_RUPTURE_OBLIGATOIRE",
        "MOTIF_RUPTURE_OBLIGATOIRE",
    }
    constructys = sandbox_headers(sandbox, "CONSTRUCTYS", CFA_SIRET)  # protocol 1: no ruptures over the API
    assert rupture(sandbox, "CONSTRUCTYS", constructys, numeroInterne="X").status_code == 404


def test_a_sandbox_kept_on_disk_still_shows_the_rupture_after_a_restart(
    tmp_path: Path, complete_cerfa: dict[str, Any]
) -> None:
    def config() -> SandboxConfig:
        return SandboxConfig(instruction_delay=0, decision_delay=0, state_path=tmp_path / "sandbox.db")

    with running_sandbox(config()) as url, httpx.Client(base_url=url, timeout=10) as client:
        headers = sandbox_headers(client, "ATLAS", CFA_SIRET)
        assert post(client, "ATLAS", headers, submission(complete_cerfa, "S-R9")).status_code == 200
        assert rupture(client, "ATLAS", headers, numeroInterne="S-R9").status_code == 200
    with running_sandbox(config()) as url, httpx.Client(base_url=url, timeout=10) as client:
        headers = sandbox_headers(client, "ATLAS", CFA_SIRET)
        dossier = client.get("/opcos/ATLAS/v2/dossiers", params={"numeroInterne": "S-R9"}, headers=headers).json()
        assert dossier["cerfa"]["etat"] == "RUPTU"
        again = rupture(client, "ATLAS", headers, numeroInterne="S-R9")
        assert again.json()["errors"][0]["code"] == "RUPTURE_EXISTANTE"
