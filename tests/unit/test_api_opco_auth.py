"""A CFA administrator sets the software's OAuth client and the DPoP key per OPCO over the REST API: sealed at rest,
never shown back, conditional (If-Match) and safe to retry (Idempotency-Key); GET shows each OPCO's dialect."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey

from interfaces.api.app import create_app
from interfaces.bootstrap import Container
from tests.support import OPERATOR_TOKEN, container

CFA = "79852413800012"
CLIENT_SECRET = "software-SECRET-0123456789"
CLIENT = {"clientId": "convergence-software", "clientSecret": CLIENT_SECRET}


@pytest.fixture
def services() -> Iterator[Container]:
    built = container()
    yield built
    built.close()


@pytest.fixture
def client(services: Container) -> Iterator[TestClient]:
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client


def token(client: TestClient, role: str) -> dict[str, str]:
    issued = client.post(
        "/admin/tokens",
        json={"cfaSiret": CFA, "role": role, "name": role},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    ).json()
    return {"Authorization": f"Bearer {issued['token']}"}


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return token(client, "admin")


def accounts(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = client.get(f"/cfas/{CFA}/opcos", headers=headers)
    assert answer.status_code == 200, answer.text
    return {account["opco"]: account for account in answer.json()}


def stored(services: Container) -> bytes:
    """Every event and Idempotency-Key record, as the store holds them once the master keyring opened them: the
    secrets are sealed again inside (FernetBox)."""
    cipher = services.dossiers.mapper.cipher
    assert cipher is not None
    return b"\n".join(cipher.decrypt(n.state) for n in services.dossiers.recorder.select_notifications(1, 10_000))


def test_each_opco_shows_its_dialect_its_address_and_why_it_cannot_be_reached(
    client: TestClient, admin: dict[str, str]
) -> None:
    by_code = accounts(client, admin)

    akto = by_code["AKTO"]
    assert akto["auth"] == {
        "dialect": "sor",
        "tokenUrl": "https://cfa-ws.akto.fr/SorApiIdentityServer/connect/token",
        "scope": "api.read api.write",
        "dpop": False,
    }
    assert akto["address"] == {
        "environment": "production",
        "baseUrl": "https://cfa-ws.akto.fr/SorApiEchangeCFA",
        "invoicePath": "/v1/Factures",
    }
    assert (akto["reachable"], akto["ready"], akto["notReady"]["code"]) == (True, False, "api_key_missing")
    assert by_code["OPCOEP"]["auth"]["dialect"] == "keycloak"
    assert by_code["OPCOEP"]["auth"]["scope"] is None
    assert by_code["OPCOEP"]["reachable"] is False
    assert "only its test host was observed" in by_code["OPCOEP"]["unreachableReason"]
    assert by_code["OPCOEP"]["notReady"]["code"] == "opco_unreachable"
    afdas = by_code["AFDAS"]
    assert (afdas["auth"]["dialect"], afdas["auth"]["dpop"], afdas["reachable"]) == ("okta_dpop", True, False)
    assert "token endpoint" in afdas["unreachableReason"]
    assert by_code["OPCOMMERCE"]["auth"]["dialect"] == "key_only"
    assert all(a["oauthClient"] is None and a["dpopKey"] is None and a["version"] == 0 for a in by_code.values())


def test_the_oauth_client_is_set_and_its_secret_never_shown_nor_stored_in_clear(
    client: TestClient, services: Container, admin: dict[str, str]
) -> None:
    answer = client.put(f"/cfas/{CFA}/opcos/ATLAS/oauth-client", json=CLIENT, headers=admin)

    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == '"2"'  # opened, then the client set
    body = answer.json()
    assert body["oauthClient"]["clientId"] == "convergence-software"
    assert body["oauthClient"]["secretSet"] is True
    assert body["oauthClient"]["setAt"] is not None
    assert body["notReady"]["code"] == "api_key_missing"
    listing = client.get(f"/cfas/{CFA}/opcos", headers=admin)
    for text in (answer.text, listing.text):
        assert CLIENT_SECRET not in text
    assert CLIENT_SECRET.encode() not in stored(services)
    assert b"convergence-software" in stored(services)  # the store was read: the id is there, the secret is not


def test_an_oauth_client_sent_again_under_its_key_is_answered_again(client: TestClient, admin: dict[str, str]) -> None:
    keyed = {**admin, "Idempotency-Key": "client-1"}
    first = client.put(f"/cfas/{CFA}/opcos/ATLAS/oauth-client", json=CLIENT, headers=keyed)
    again = client.put(f"/cfas/{CFA}/opcos/ATLAS/oauth-client", json=CLIENT, headers=keyed)

    assert (first.status_code, again.status_code) == (200, 200)
    assert (again.headers["Idempotent-Replayed"], again.headers["ETag"]) == ("true", first.headers["ETag"])
    other = {**CLIENT, "clientSecret": CLIENT_SECRET + "-other"}
    reused = client.put(f"/cfas/{CFA}/opcos/ATLAS/oauth-client", json=other, headers=keyed)
    assert (reused.status_code, reused.json()["type"]) == (422, "urn:convergence:problem:idempotency-key-reused")


def test_a_stale_if_match_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    first = client.put(f"/cfas/{CFA}/opcos/ATLAS/oauth-client", json=CLIENT, headers=admin)
    stale = client.put(
        f"/cfas/{CFA}/opcos/ATLAS/credentials",
        json={"apiKey": "atlas-key-0123456789"},
        headers={**admin, "If-Match": '"1"'},
    )
    fresh = client.put(
        f"/cfas/{CFA}/opcos/ATLAS/credentials",
        json={"apiKey": "atlas-key-0123456789"},
        headers={**admin, "If-Match": first.headers["ETag"]},
    )
    assert (stale.status_code, fresh.status_code) == (412, 200)
    assert fresh.json()["ready"] is True
    assert fresh.json()["clientId"] == "convergence-software"  # the key did not clear the client


def test_a_generated_dpop_key_shows_its_public_jwk_and_is_replaced_only_under_if_match(
    client: TestClient, services: Container, admin: dict[str, str]
) -> None:
    url = f"/cfas/{CFA}/opcos/AFDAS/dpop-key"
    keyed = {**admin, "Idempotency-Key": "dpop-1"}
    generated = client.post(url, json={"generate": "RS256"}, headers=keyed)

    assert generated.status_code == 200, generated.text
    key = generated.json()["dpopKey"]
    assert (key["alg"], key["publicJwk"]["kty"], set(key["publicJwk"]) & {"d", "p", "q"}) == ("RS256", "RSA", set())
    replayed = client.post(url, json={"generate": "RS256"}, headers=keyed)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["dpopKey"] == key  # the key made by the first request, not another

    without = client.post(url, json={"generate": "ES256"}, headers=admin)
    assert without.status_code == 428
    replaced = client.post(url, json={"generate": "ES256"}, headers={**admin, "If-Match": generated.headers["ETag"]})
    assert replaced.status_code == 200
    assert replaced.json()["dpopKey"]["thumbprint"] != key["thumbprint"]
    assert b'"d"' not in stored(services).replace(b" ", b"")  # no private JWK parameter in clear


def test_an_uploaded_pem_key_is_taken_and_never_shown(
    client: TestClient, services: Container, admin: dict[str, str]
) -> None:
    key = ECKey.generate_key("P-256")
    pem, private_d = key.as_pem(private=True).decode(), str(key.as_dict(private=True)["d"])
    answer = client.post(f"/cfas/{CFA}/opcos/AFDAS/dpop-key", json={"privateKey": pem}, headers=admin)

    assert answer.status_code == 200, answer.text
    assert answer.json()["dpopKey"]["alg"] == "ES256"
    assert private_d not in answer.text
    assert private_d.encode() not in stored(services)
    assert answer.json()["dpopKey"]["thumbprint"] == key.thumbprint()
    again = client.post(f"/cfas/{CFA}/opcos/AFDAS/dpop-key", json={"privateKey": pem}, headers=admin)
    assert (again.status_code, again.headers["ETag"]) == (200, answer.headers["ETag"])  # the same key: no change


@pytest.mark.parametrize(
    ("opco", "body", "field"),
    [
        ("ATLAS", {"generate": "ES256"}, "dpopKey"),  # the SOR dialect binds no key
        ("AFDAS", {"privateKey": "not a key"}, "privateKey"),
        ("AFDAS", {"generate": "HS256"}, "generate"),
    ],
)
def test_a_dpop_key_that_cannot_serve_is_422_naming_the_field(
    client: TestClient, admin: dict[str, str], opco: str, body: dict[str, Any], field: str
) -> None:
    answer = client.post(f"/cfas/{CFA}/opcos/{opco}/dpop-key", json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert any(field in error["field"] for error in answer.json()["errors"])


def test_generate_and_privatekey_together_are_refused(client: TestClient, admin: dict[str, str]) -> None:
    both = {"generate": "ES256", "privateKey": "-----BEGIN PRIVATE KEY-----"}
    assert client.post(f"/cfas/{CFA}/opcos/AFDAS/dpop-key", json=both, headers=admin).status_code == 422
    assert client.post(f"/cfas/{CFA}/opcos/AFDAS/dpop-key", json={}, headers=admin).status_code == 422


def test_only_admins_of_the_cfa_set_the_oauth_client_or_the_dpop_key(client: TestClient) -> None:
    front = token(client, "frontend")
    assert client.put(f"/cfas/{CFA}/opcos/ATLAS/oauth-client", json=CLIENT, headers=front).status_code == 403
    assert (
        client.post(f"/cfas/{CFA}/opcos/AFDAS/dpop-key", json={"generate": "ES256"}, headers=front).status_code == 403
    )
