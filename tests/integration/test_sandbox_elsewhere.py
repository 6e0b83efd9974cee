"""The sandbox's dossiers deposited elsewhere (POST /_sandbox/dossiers/elsewhere): what the OPCO shows of them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infrastructure.opco.opco_sandbox import SandboxConfig
from tests.integration.sandbox_server import ADMIN_TOKEN, SANDBOX_OPERATOR, running_sandbox
from tests.integration.test_sandbox import CFA_SIRET, headers_for, read, submission

ROUTE = "/_sandbox/dossiers/elsewhere"


@pytest.fixture
def sandbox() -> Iterator[httpx.Client]:
    config = SandboxConfig(instruction_delay=60, decision_delay=60, admin_token=ADMIN_TOKEN)
    with running_sandbox(config) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def seed(client: httpx.Client, opco: str, *items: dict[str, Any]) -> httpx.Response:
    return client.post(
        ROUTE, json={"opco": opco, "siret": CFA_SIRET, "dossiers": list(items)}, headers=SANDBOX_OPERATOR
    )


def test_a_dossier_without_numero_interne_is_found_by_its_other_numbers(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    body = submission(complete_cerfa, "ignored")
    answer = seed(sandbox, "ATLAS", {"dossier": body, "numeroDeca": "075202609NC9001"}, {"dossier": body})
    assert answer.status_code == 201, answer.text
    forced, plain = answer.json()
    assert (forced["numeroInterne"], forced["numeroDeca"], forced["etat"]) == (None, "075202609NC9001", "ENGAGE")
    assert plain["numeroDeca"] is not None  # decided long ago (decided: true), the sandbox's own DECA number

    headers = headers_for(sandbox, "ATLAS")
    states = sandbox.get("/opcos/ATLAS/v2/dossiers/etats", headers=headers).json()["EtatDossierResult"]
    assert [item["numeroInterne"] for item in states] == [None, None]
    by_deca = read(sandbox, "ATLAS", headers, numeroDeca="075202609NC9001").json()
    assert (by_deca["cerfa"]["numeroExterne"], by_deca["cerfa"]["numeroInterne"]) == (forced["numeroExterne"], None)
    assert "_depotAilleurs" not in by_deca["cerfa"]  # what the OPCO would not show
    assert by_deca["echeances"]
    by_externe = read(sandbox, "ATLAS", headers, numeroExterne=plain["numeroExterne"]).json()
    assert by_externe["cerfa"]["numeroDeca"] == plain["numeroDeca"]


def test_one_deca_number_at_two_opcos_and_undecided_dossiers(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    body = submission(complete_cerfa, "ignored")
    for opco in ("ATLAS", "AKTO"):
        [shown] = seed(sandbox, opco, {"dossier": body, "numeroDeca": "075202609NC9001"}).json()
        assert shown["numeroDeca"] == "075202609NC9001"
    [fresh] = seed(sandbox, "ATLAS", {"dossier": body, "numeroInterne": "PORTAIL-1", "decided": False}).json()
    assert (fresh["numeroInterne"], fresh["etat"], fresh["numeroDeca"]) == ("PORTAIL-1", "TRANSMIS", None)


def test_only_the_operator_seeds_and_only_valid_dossiers(sandbox: httpx.Client) -> None:
    item = {"opco": "ATLAS", "siret": CFA_SIRET, "dossiers": [{"dossier": {"cerfa": {}}}]}
    assert sandbox.post(ROUTE, json=item).status_code == 401
    assert seed(sandbox, "ATLAS", {"dossier": {"cerfa": {}}}).status_code == 400
