"""A dossier created through the REST API reaches a strict fake OPCO of the SOR dialect (its identity server asking
for the software's OAuth client and the scope `api.read api.write`, then Bearer and key on every call), which takes
only the wire real clients send, and comes back `accepted` with its échéancier: on SQLite and PostgreSQL, whether the
OPCO keeps the CFA's numeroInterne or assigns its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from interfaces.api.app import create_app
from interfaces.bootstrap import bootstrap
from tests.conformance.observed import mismatches
from tests.conformance.strict_opco import API, TOKEN_PATH, StrictOpco
from tests.conftest import load_example
from tests.integration.sandbox_server import running_app
from tests.integration.transmission_support import round_trip
from tests.support import MANDATE, OPERATOR_TOKEN, settings

API_KEY = "atlas-cfa-key-0123456789"
OAUTH_CLIENT = ("convergence-editeur", "atlas-client-secret-0123")
DOSSIERS = Path(__file__).resolve().parent / "dossiers"


def cerfa_named(name: str) -> dict[str, Any]:
    if name == "complete":
        return load_example("cerfa-complete.json")
    document: dict[str, Any] = json.loads((DOSSIERS / f"{name}.json").read_text(encoding="utf-8"))
    return document


@pytest.fixture
def strict_atlas(request: pytest.FixtureRequest) -> Iterator[tuple[StrictOpco, str]]:
    opco = StrictOpco(API_KEY, OAUTH_CLIENT, assigns_numbers=getattr(request, "param", False))
    with running_app(opco.app) as url:
        yield opco, url


def through_the_api(database_url: str, url: str, cerfa: dict[str, Any], numero: str) -> dict[str, Any]:
    """Create, mandate and submit over REST; let the worker send it and follow the OPCO; the dossier as the API shows
    it then."""
    container = bootstrap(settings(database_url, opco_atlas_url=url + API, opco_timeout_seconds=5.0))
    try:
        with TestClient(create_app(container)) as client:
            cfa = cerfa["organismeFormation"]["siret"]
            operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
            issued = client.post(
                "/admin/tokens", json={"cfaSiret": cfa, "role": "admin", "name": "conf"}, headers=operator
            )
            auth = {"Authorization": f"Bearer {issued.json()['token']}"}
            key = client.put(f"/cfas/{cfa}/opcos/ATLAS/credentials", json={"apiKey": API_KEY}, headers=auth)
            assert key.status_code == 200, key.text
            client_id, secret = OAUTH_CLIENT
            oauth = {"clientId": client_id, "clientSecret": secret}
            software = client.put(f"/cfas/{cfa}/opcos/ATLAS/oauth-client", json=oauth, headers=auth)
            assert software.status_code == 200, software.text
            created = client.post("/contracts", json={"numeroInterne": numero, "cerfa": cerfa}, headers=auth)
            assert created.status_code == 201, created.text
            ident = created.json()["id"]
            assert client.post(f"/contracts/{ident}/mandate", json=MANDATE, headers=auth).status_code in (200, 201)
            assert client.post(f"/contracts/{ident}/submission", headers=auth).status_code == 202

            assert round_trip(container) == 1
            container.worker.sync_once()
            container.worker.project_once()
            shown: dict[str, Any] = client.get(f"/contracts/{ident}", headers=auth).json()
            return shown
    finally:
        container.close()


@pytest.mark.parametrize("name", ["complete", "minor-with-legal-representative", "second-maitre", "rqth-apprentice"])
def test_a_dossier_reaches_a_strict_opco_and_comes_back_accepted_with_its_echeancier(
    database_url: str, strict_atlas: tuple[StrictOpco, str], name: str
) -> None:
    opco, url = strict_atlas

    shown = through_the_api(database_url, url, cerfa_named(name), f"CONF-{name}")

    [post] = opco.posts()
    assert (post.status, post.errors) == (200, [])
    tokens = [r for r in opco.received if r.path == TOKEN_PATH]
    assert len(tokens) == 1  # one token for the whole exchange, sent with every call after it
    assert all(r.status == 200 for r in opco.received if r is not tokens[0])
    assert mismatches(post.body, "cerfacil", "wedof") == []
    assert post.body["cerfa"]["numeroInterne"] == f"CONF-{name}"
    assert shown["state"] == "accepted", shown["transmission"]
    assert shown["opcoState"] == "ENGAGE"
    assert (shown["numeroExterne"], shown["opcoNumeroInterne"]) == ("CA-0000001-1", f"CONF-{name}")
    assert shown["numeroDeca"].startswith("069")
    assert shown["commitment"] == "8000.00"
    assert [(e["codification"], e["montantTotal"], e["dateOuverture"]) for e in shown["echeances"]] == [
        ("E1", "4000.00", "2026-09-01"),
        ("E2", "4000.00", "2027-03-01"),
    ]


@pytest.mark.parametrize("strict_atlas", [True], indirect=True)
def test_an_opco_that_assigns_its_own_numero_interne_is_followed_by_it(
    database_url: str, strict_atlas: tuple[StrictOpco, str], complete_cerfa: dict[str, Any]
) -> None:
    opco, url = strict_atlas

    shown = through_the_api(database_url, url, complete_cerfa, "CONF-OWN")

    assert shown["state"] == "accepted", shown["transmission"]
    assert (shown["numeroInterne"], shown["opcoNumeroInterne"]) == ("CONF-OWN", "NI-00001")
    assert shown["echeances"]
    assert list(opco.dossiers) == ["NI-00001"]
    reads = [r.query for r in opco.received if r.method == "GET" and r.path == f"{API}/v2/dossiers"]
    assert reads == ["numeroInterne=NI-00001"]  # on ENGAGE, by the number the OPCO keeps it under
