"""Each OPCO's authentication dialect, played by the sandbox over loopback: the client gets its token where and as
the dialect has it and is let in; what breaks a dialect's rules is refused with the OAuth error it deserves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from domain.contracts.cerfa_document import parse_cerfa
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client import ClientIdentity, HttpOpcoGateway
from infrastructure.opco.opco_client.dpop import DpopSigner, JoseDpopKeys
from infrastructure.opco.opco_sandbox import SandboxConfig
from tests.integration.sandbox_server import (
    DPOP_KEY,
    SANDBOX_IDENTITY,
    SANDBOX_OPERATOR,
    oauth_client,
    running_sandbox,
    sandbox_endpoint,
    sandbox_key,
)

CFA_SIRET = "79852413800012"
IDENTITY = ClientIdentity(editeur="Intégrale Academy", logiciel="Convergence", version="0.1.0")
SOR = "/SorApiIdentityServer/connect/token"
KEYCLOAK = "/realms/interopco-partenaires/protocol/openid-connect/token"
OKTA = "/oauth2/sandbox/v1/token"


def client_form(sandbox: Sandbox) -> dict[str, str]:
    """The client-credentials form of the software's OAuth client, drawn for this sandbox's installation."""
    client_id, secret = oauth_client(sandbox.client)
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


class RecordingTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[tuple[httpx.Request, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.exchanges.append((request, response.status_code))
        return response

    def paths(self) -> list[tuple[str, int]]:
        return [(request.url.path, status) for request, status in self.exchanges]


@dataclass
class Sandbox:
    url: str
    client: httpx.Client  # on the sandbox's root URL

    def token_url(self, opco: str, path: str) -> str:
        return f"{self.url}/opcos/{opco}{path}"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with (
        running_sandbox(SandboxConfig(instruction_delay=0, decision_delay=0)) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield Sandbox(url, client)


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def gateway(transport: RecordingTransport) -> Iterator[HttpOpcoGateway]:
    with HttpOpcoGateway(IDENTITY, transport=transport) as client:
        yield client


# -- the client in each dialect -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opco", "token_path"), [(Opco.AKTO, SOR), (Opco.ATLAS, SOR), (Opco.MOBILITES, SOR), (Opco.OPCOEP, KEYCLOAK)]
)
def test_the_client_is_let_in_by_each_bearer_dialect(
    sandbox: Sandbox,
    gateway: HttpOpcoGateway,
    transport: RecordingTransport,
    complete_cerfa: dict[str, Any],
    opco: Opco,
    token_path: str,
) -> None:
    endpoint = sandbox_endpoint(sandbox.url, sandbox.client, opco, CFA_SIRET)

    gateway.send_contract(endpoint, "AUTH-1", parse_cerfa(complete_cerfa))
    found = gateway.find_dossier(endpoint, "AUTH-1")

    assert found is not None
    prefix = f"/opcos/{opco.value}"
    assert [path for path, _ in transport.paths()] == [
        prefix + token_path,
        f"{prefix}/v{endpoint.protocol}/dossiers",
        f"{prefix}/v{endpoint.protocol}/dossiers",
    ]
    assert {request.headers.get("Authorization", "")[:7] for request, _ in transport.exchanges[1:]} == {"Bearer "}


def test_the_client_proves_its_key_to_the_okta_dialect_after_the_nonce_dance(
    sandbox: Sandbox, gateway: HttpOpcoGateway, transport: RecordingTransport, complete_cerfa: dict[str, Any]
) -> None:
    endpoint = sandbox_endpoint(sandbox.url, sandbox.client, Opco.AFDAS, CFA_SIRET)

    gateway.send_contract(endpoint, "DPOP-1", parse_cerfa(complete_cerfa))
    found = gateway.find_dossier(endpoint, "DPOP-1")

    assert found is not None
    assert transport.paths() == [
        ("/opcos/AFDAS" + OKTA, 400),  # use_dpop_nonce: the sandbox, as Okta, wants its nonce in the proof
        ("/opcos/AFDAS" + OKTA, 200),
        ("/opcos/AFDAS/v1/dossiers", 200),
        ("/opcos/AFDAS/v1/dossiers", 200),
    ]
    for request, _ in transport.exchanges[2:]:
        assert request.headers["Authorization"].startswith("DPoP ")
        assert request.headers["DPoP"].count(".") == 2
    assert dict(transport.exchanges[2][0].headers.raw)[b"EDITEUR"] == b"Int\xe9grale Academy"


def test_a_token_refused_by_the_api_is_fetched_again_once(
    sandbox: Sandbox, gateway: HttpOpcoGateway, transport: RecordingTransport
) -> None:
    endpoint = sandbox_endpoint(sandbox.url, sandbox.client, Opco.AKTO, CFA_SIRET)
    gateway.service_status(endpoint)
    reset = sandbox.client.post("/_sandbox/reset", headers=SANDBOX_OPERATOR)
    assert reset.status_code == 204  # the sandbox forgets its tokens (and keys)
    endpoint = sandbox_endpoint(sandbox.url, sandbox.client, Opco.AKTO, CFA_SIRET)

    gateway.service_status(endpoint)

    assert [status for _, status in transport.exchanges] == [200, 200, 401, 200, 200]


# -- the token endpoints' rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opco", "path", "scope", "error"),
    [
        ("AKTO", SOR, None, "invalid_scope"),  # the SOR server wants its scopes
        ("AKTO", SOR, "api.read", "invalid_scope"),
        ("ATLAS", SOR, ".default", "invalid_scope"),  # AKTO-PY's placeholder is not a SOR scope
        ("OPCOEP", KEYCLOAK, "api.read api.write", "invalid_scope"),  # OPCO EP's client has no scope to ask for
    ],
)
def test_a_wrong_scope_is_invalid_scope(sandbox: Sandbox, opco: str, path: str, scope: str | None, error: str) -> None:
    form = client_form(sandbox) if scope is None else {**client_form(sandbox), "scope": scope}
    answer = sandbox.client.post(f"/opcos/{opco}{path}", data=form)
    assert (answer.status_code, answer.json()["error"]) == (400, error)
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_scope_given_in_either_order_is_the_sor_scope(sandbox: Sandbox) -> None:
    answer = sandbox.client.post(f"/opcos/ATLAS{SOR}", data={**client_form(sandbox), "scope": "api.write api.read"})
    assert (answer.status_code, answer.json()["token_type"]) == (200, "Bearer")


def test_a_token_endpoint_is_only_where_the_opcos_dialect_has_it(sandbox: Sandbox) -> None:
    assert sandbox.client.post(f"/opcos/AKTO{KEYCLOAK}", data=client_form(sandbox)).status_code == 404
    assert (
        sandbox.client.post(
            f"/opcos/OPCOEP{SOR}", data={**client_form(sandbox), "scope": "api.read api.write"}
        ).status_code
        == 404
    )
    assert sandbox.client.post(f"/opcos/OPCOMMERCE{SOR}", data=client_form(sandbox)).status_code == 404  # key only
    wrong_realm = sandbox.client.post(
        "/opcos/OPCOEP/realms/master/protocol/openid-connect/token", data=client_form(sandbox)
    )
    assert (wrong_realm.status_code, wrong_realm.json()["error"]) == (404, "realm_not_found")


def test_okta_wants_a_dpop_proof_with_its_nonce(sandbox: Sandbox) -> None:
    url = sandbox.token_url("AFDAS", OKTA)
    signer = DpopSigner(DPOP_KEY.private_jwk)

    bare = sandbox.client.post(url, data=client_form(sandbox))
    first = sandbox.client.post(url, data=client_form(sandbox), headers={"DPoP": signer.proof("POST", url)})
    nonce = first.headers["DPoP-Nonce"]
    wrong_url = sandbox.client.post(
        url, data=client_form(sandbox), headers={"DPoP": signer.proof("POST", url + "x", nonce=nonce)}
    )
    bad_scope = sandbox.client.post(
        url,
        data={**client_form(sandbox), "scope": "api.read"},
        headers={"DPoP": signer.proof("POST", url, nonce=nonce)},
    )
    granted = sandbox.client.post(
        url, data=client_form(sandbox), headers={"DPoP": signer.proof("POST", url, nonce=nonce)}
    )

    assert (bare.status_code, bare.json()["error"]) == (400, "invalid_dpop_proof")
    assert (first.status_code, first.json()["error"]) == (400, "use_dpop_nonce")
    assert (wrong_url.status_code, wrong_url.json()["error"]) == (400, "invalid_dpop_proof")
    assert (bad_scope.status_code, bad_scope.json()["error"]) == (400, "invalid_scope")
    assert (granted.status_code, granted.json()["token_type"]) == (200, "DPoP")


def test_the_api_wants_a_fresh_proof_of_the_bound_key_for_a_dpop_token(sandbox: Sandbox) -> None:
    url = sandbox.token_url("AFDAS", OKTA)
    signer = DpopSigner(DPOP_KEY.private_jwk)
    nonce = sandbox.client.post(url, data=client_form(sandbox), headers={"DPoP": signer.proof("POST", url)}).headers[
        "DPoP-Nonce"
    ]
    token = sandbox.client.post(
        url, data=client_form(sandbox), headers={"DPoP": signer.proof("POST", url, nonce=nonce)}
    ).json()["access_token"]
    status = f"{sandbox.url}/opcos/AFDAS/v1/status"
    headers = {**SANDBOX_IDENTITY, "X-API-KEY": sandbox_key(sandbox.client, "AFDAS", CFA_SIRET)}
    other = DpopSigner(JoseDpopKeys().generate("ES256").private_jwk)

    def get(**extra: str) -> httpx.Response:
        return sandbox.client.get(status, headers={**headers, **extra})

    good = signer.proof("GET", status, access_token=token)
    assert get(Authorization=f"DPoP {token}", DPoP=good).status_code == 200
    refusals = {
        "as a bearer": get(Authorization=f"Bearer {token}"),
        "without a proof": get(Authorization=f"DPoP {token}"),
        "a proof used twice": get(Authorization=f"DPoP {token}", DPoP=good),
        "without ath": get(Authorization=f"DPoP {token}", DPoP=signer.proof("GET", status)),
        "for another method": get(Authorization=f"DPoP {token}", DPoP=signer.proof("POST", status, access_token=token)),
        "by another key": get(Authorization=f"DPoP {token}", DPoP=other.proof("GET", status, access_token=token)),
    }
    assert {why: answer.status_code for why, answer in refusals.items()} == dict.fromkeys(refusals, 401)
    assert refusals["by another key"].headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"')


def test_a_stale_proof_is_refused(sandbox: Sandbox) -> None:
    url = sandbox.token_url("AFDAS", OKTA)
    old = DpopSigner(DPOP_KEY.private_jwk, clock=lambda: time.time() - 3600)
    answer = sandbox.client.post(url, data=client_form(sandbox), headers={"DPoP": old.proof("POST", url)})
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_dpop_proof")
    assert "iat" in answer.json()["error_description"]
