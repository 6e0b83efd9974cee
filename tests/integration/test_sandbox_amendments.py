"""The sandbox's avenants, driven by httpx as our client would: an avenant (typeContratApp 31–38) is a new dossier
keeping the amended contract's DECA number with its own noAvenant (1, 2, … per DECA number, kept on disk across a
restart); one that names no contract, an unknown one or one not engaged is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.amendments.amendment_types import AMENDMENT_TYPES, AmendmentRequest
from domain.amendments.contract_at import amended_cerfa
from infrastructure.opco.opco_sandbox import SandboxConfig
from tests.integration.sandbox_server import running_sandbox, sandbox_headers
from tests.integration.test_sandbox import CFA_SIRET, post, read, submission


def avenant(cerfa: dict[str, Any], deca: str | None, number: int = 1) -> dict[str, Any]:
    request = AmendmentRequest(36, date(2027, 1, 4), {"maitre1": {"nom": "Bernard"}})
    return amended_cerfa(cerfa, request, AMENDMENT_TYPES[36], number, deca).to_document()


def config(**values: Any) -> SandboxConfig:
    return SandboxConfig(**{"instruction_delay": 0, "decision_delay": 0, **values})


@pytest.fixture
def sandbox() -> Iterator[httpx.Client]:
    with running_sandbox(config()) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def engaged_deca(client: httpx.Client, headers: dict[str, str], cerfa: dict[str, Any], numero: str) -> str:
    assert post(client, "ATLAS", headers, submission(cerfa, numero)).status_code == 200
    dossier = read(client, "ATLAS", headers, numeroInterne=numero).json()["cerfa"]
    assert dossier["etat"] == "ENGAGE"
    return str(dossier["numeroDeca"])


def test_avenants_are_new_dossiers_numbered_per_deca(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    headers = sandbox_headers(sandbox, "ATLAS", CFA_SIRET)
    deca = engaged_deca(sandbox, headers, complete_cerfa, "S-A1")
    first = post(sandbox, "ATLAS", headers, submission(avenant(complete_cerfa, deca), "S-A1-AV1"))
    assert first.status_code == 200, first.text
    contract = read(sandbox, "ATLAS", headers, numeroInterne="S-A1").json()["cerfa"]
    assert first.json()["numeroExterne"] != contract["numeroExterne"]
    second = post(sandbox, "ATLAS", headers, submission(avenant(complete_cerfa, deca, 2), "S-A1-AV2"))
    assert second.status_code == 200
    for numero, no_avenant in (("S-A1-AV1", "1"), ("S-A1-AV2", "2")):
        shown = read(sandbox, "ATLAS", headers, numeroInterne=numero).json()["cerfa"]
        assert (shown["etat"], shown["numeroDeca"], shown["contrat"]["noAvenant"]) == ("ENGAGE", deca, no_avenant)


def test_an_avenant_of_nothing_known_is_refused(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    headers = sandbox_headers(sandbox, "ATLAS", CFA_SIRET)
    unknown = post(sandbox, "ATLAS", headers, submission(avenant(complete_cerfa, "069202609NC9999"), "S-A2-AV1"))
    assert (unknown.status_code, unknown.json()["errors"][0]["code"]) == (400, "CONTRAT_PRECEDENT_INCONNU")
    nameless = post(sandbox, "ATLAS", headers, submission(avenant(complete_cerfa, None), "S-A3-AV1"))
    assert nameless.status_code == 400
    assert "NUMERO_CONTRAT_PRECEDENT_OBLIGATOIRE" in {e["code"] for e in nameless.json()["errors"]}


def test_an_avenant_of_a_contract_not_yet_engaged_is_refused(complete_cerfa: dict[str, Any]) -> None:
    with running_sandbox(config(decision_delay=3600)) as url, httpx.Client(base_url=url, timeout=10) as client:
        headers = sandbox_headers(client, "ATLAS", CFA_SIRET)
        assert post(client, "ATLAS", headers, submission(complete_cerfa, "S-A4")).status_code == 200
        deca = "069202609NC0001"  # the DECA number the sandbox gives its first dossier of that employer and month
        refused = post(client, "ATLAS", headers, submission(avenant(complete_cerfa, deca), "S-A4-AV1"))
        assert (refused.status_code, refused.json()["errors"][0]["code"]) == (400, "CONTRAT_PRECEDENT_NON_ENGAGE")


def test_a_sandbox_kept_on_disk_keeps_its_avenants(tmp_path: Path, complete_cerfa: dict[str, Any]) -> None:
    on_disk = config(state_path=tmp_path / "sandbox.db")
    with running_sandbox(on_disk) as url, httpx.Client(base_url=url, timeout=10) as client:
        headers = sandbox_headers(client, "ATLAS", CFA_SIRET)
        deca = engaged_deca(client, headers, complete_cerfa, "S-A5")
        assert post(client, "ATLAS", headers, submission(avenant(complete_cerfa, deca), "S-A5-AV1")).status_code == 200
    with running_sandbox(on_disk) as url, httpx.Client(base_url=url, timeout=10) as client:
        headers = sandbox_headers(client, "ATLAS", CFA_SIRET)
        shown = read(client, "ATLAS", headers, numeroInterne="S-A5-AV1").json()["cerfa"]
        assert (shown["numeroDeca"], shown["contrat"]["noAvenant"]) == (deca, "1")
