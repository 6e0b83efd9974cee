"""OPCO accounts and transmission over the REST API, in-process on the in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from interfaces.api.app import create_app
from tests.support import MANDATE, OPERATOR_TOKEN, container

OTHER_CFA = "73282932000074"
API_KEY = "atlas-key-0123456789-WXYZ"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(container()), raise_server_exceptions=False) as test_client:
        yield test_client


def token(client: TestClient, cfa: str, role: str) -> dict[str, str]:
    issued = client.post(
        "/admin/tokens",
        json={"cfaSiret": cfa, "role": role, "name": role},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    ).json()
    return {"Authorization": f"Bearer {issued['token']}"}


@pytest.fixture
def cfa(complete_cerfa: dict[str, Any]) -> str:
    siret: str = complete_cerfa["organismeFormation"]["siret"]
    return siret


def test_every_opco_is_listed_with_its_capabilities(client: TestClient, cfa: str) -> None:
    accounts = client.get(f"/cfas/{cfa}/opcos", headers=token(client, cfa, "frontend")).json()
    by_code = {a["opco"]: a for a in accounts}
    assert len(by_code) == 11
    assert by_code["ATLAS"]["protocol"] == 2
    assert by_code["SANTE"]["capabilities"]["contracts"] is False
    assert by_code["AKTO"]["capabilities"]["oauth"] is True
    assert all(a["keySet"] is False and a["keyStatus"] == "none" for a in accounts)


def test_an_admin_sets_a_key_that_is_never_shown_again(client: TestClient, cfa: str) -> None:
    admin = token(client, cfa, "admin")
    answer = client.put(f"/cfas/{cfa}/opcos/ATLAS/credentials", json={"apiKey": API_KEY}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["keySet"], answer.json()["keyLast4"], answer.json()["keyStatus"]) == (
        True,
        "WXYZ",
        "unchecked",
    )
    listing = client.get(f"/cfas/{cfa}/opcos", headers=admin)
    assert API_KEY not in answer.text
    assert API_KEY not in listing.text


def test_only_admins_of_the_cfa_set_keys(client: TestClient, cfa: str) -> None:
    url = f"/cfas/{cfa}/opcos/ATLAS/credentials"
    assert client.put(url, json={"apiKey": API_KEY}, headers=token(client, cfa, "frontend")).status_code == 403
    assert client.put(url, json={"apiKey": API_KEY}, headers=token(client, OTHER_CFA, "admin")).status_code == 404
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    assert client.put(url, json={"apiKey": API_KEY}, headers=operator).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"apiKey": "short"}, "apiKey"),
        ({"apiKey": API_KEY, "clientId": "software"}, "clientSecret"),
        ({"apiKey": API_KEY, "secret": "x"}, "secret"),
    ],
)
def test_bad_credentials_are_refused(client: TestClient, cfa: str, body: dict[str, Any], field: str) -> None:
    answer = client.put(f"/cfas/{cfa}/opcos/ATLAS/credentials", json=body, headers=token(client, cfa, "admin"))
    assert answer.status_code == 422
    assert field in {e["field"] for e in answer.json()["errors"]}


def test_unknown_opco_or_bad_siret(client: TestClient, cfa: str) -> None:
    admin = token(client, cfa, "admin")
    assert (
        client.put(f"/cfas/{cfa}/opcos/UNIFORMATION/credentials", json={"apiKey": API_KEY}, headers=admin).status_code
        == 422
    )
    assert client.get("/cfas/12345678901234/opcos", headers=admin).status_code == 422


def test_a_submitted_dossier_waits_for_a_key(client: TestClient, cfa: str, complete_cerfa: dict[str, Any]) -> None:
    front = token(client, cfa, "admin")
    dossier = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=front).json()
    assert dossier["transmission"] is None  # a draft is not to be sent
    client.post(f"/contracts/{dossier['id']}/mandate", json=MANDATE, headers=front)
    submitted = client.post(f"/contracts/{dossier['id']}/submission", headers=front).json()
    assert submitted["transmission"]["waitingForKey"] is True
    assert submitted["transmission"]["attempts"] == 0
    client.put(f"/cfas/{cfa}/opcos/ATLAS/credentials", json={"apiKey": API_KEY}, headers=front)
    waiting = client.get(f"/contracts/{dossier['id']}", headers=front).json()["transmission"]
    assert (waiting["waitingForKey"], waiting["waitingFor"]["code"]) == (True, "oauth_client_missing")  # ATLAS: SOR
    client.put(
        f"/cfas/{cfa}/opcos/ATLAS/oauth-client",
        json={"clientId": "software-id", "clientSecret": "software-SECRET-0001"},
        headers=front,
    )
    again = client.get(f"/contracts/{dossier['id']}", headers=front).json()
    assert again["transmission"]["waitingForKey"] is False
    assert again["transmission"]["waitingFor"] is None
    retry = client.post(f"/contracts/{dossier['id']}/transmission/retry", headers=front)
    assert retry.status_code == 409  # not parked: nothing to retry
    assert "not parked" in retry.json()["detail"]
