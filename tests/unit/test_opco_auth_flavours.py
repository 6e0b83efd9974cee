"""Each OPCO's authentication dialect, as the client speaks it, checked request by request on httpx.MockTransport:
the token form (grant, scope or none), the DPoP proofs (verified with joserfc), the token's reuse and refresh, the
nonce a server asks for, the identity headers, and each OPCO's error shape."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import JWKRegistry

from application.opco.opco_gateway import KeyRejected, OpcoEndpoint, RefusedByOpco
from domain.cerfa import Cerfa
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client import ClientIdentity, HttpOpcoGateway
from infrastructure.opco.opco_client.dpop import JoseDpopKeys
from tests.invoicing import outgoing_invoice

BASE = "https://opco.test/SorApiEchangeCFA"
TOKEN_URL = "https://opco.test/SorApiIdentityServer/connect/token"
OKTA_TOKEN_URL = "https://afdas.okta.test/oauth2/aus-server/v1/token"
API_KEY = "cfa-key-S3CRET-0123456789"
CLIENT_SECRET = "client-secret-S3CRET-987654"
IDENTITY = ClientIdentity(editeur="Intégrale Academy", logiciel="Convergence", version="1.4.2")
RSA_KEY = JoseDpopKeys().generate("RS256")
EC_KEY = JoseDpopKeys().generate("ES256")

Handler = Callable[[httpx.Request], httpx.Response]


class ScriptedOpco:
    """A scripted OPCO: a token endpoint and an API, answers per path in order (the last repeating)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: dict[str, list[Handler]] = {}
        self.issued = 0

    def on(self, path: str, *answers: Handler) -> ScriptedOpco:
        self.answers[path] = list(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        queue = self.answers[request.url.path]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request)

    def token(self, token_type: str = "Bearer", ttl: int = 3600) -> Handler:
        def issue(_: httpx.Request) -> httpx.Response:
            self.issued += 1
            body = {"access_token": f"token-S3CRET-{self.issued}", "token_type": token_type, "expires_in": ttl}
            return httpx.Response(200, json=body)

        return issue

    def to(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]


def ok(_: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"status": "OK"})


def answer(status: int, body: Any = None, **headers: str) -> Handler:
    return lambda _: httpx.Response(status, json=body, headers=headers)


@pytest.fixture
def opco() -> ScriptedOpco:
    return ScriptedOpco()


@pytest.fixture
def gateway(opco: ScriptedOpco) -> Iterator[HttpOpcoGateway]:
    with HttpOpcoGateway(IDENTITY, transport=httpx.MockTransport(opco)) as client:
        yield client


def endpoint(code: Opco, **changes: Any) -> OpcoEndpoint:
    """As OpcoAccounts.endpoint gives it for `code`, with the software's client and, at AFDAS, a DPoP key."""
    profile = CATALOGUE[code]
    fields: dict[str, Any] = {
        "opco": code,
        "base_url": BASE,
        "protocol": profile.protocol,
        "api_key": API_KEY,
        "client_id": "software-id",
        "client_secret": CLIENT_SECRET,
        "token_url": OKTA_TOKEN_URL if profile.dpop else TOKEN_URL,
        "scope": profile.oauth_scope,
        "dpop_key": RSA_KEY.private_jwk if profile.dpop else None,
        "errors": profile.errors,
        "invoice_path": profile.invoice_path,
    }
    return OpcoEndpoint(**(fields | changes))


def form(request: httpx.Request) -> dict[str, list[str]]:
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    return parse_qs(request.content.decode(), keep_blank_values=True)


def proof_of(request: httpx.Request, method: str, url: str, access_token: str | None = None) -> dict[str, Any]:
    """The request's DPoP proof, checked as RFC 9449 §4.2/§4.3 says, with joserfc: its claims."""
    proof = request.headers["DPoP"]
    registry = jws.JWSRegistry()
    registry.max_header_length = 2048
    header = jws.extract_compact(proof.encode(), registry=registry).protected
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] in {"RS256", "ES256"}
    assert not set(header["jwk"]) & {"d", "p", "q", "dp", "dq", "qi"}  # the public key only
    token = jwt.decode(proof, JWKRegistry.import_key(header["jwk"]), algorithms=[header["alg"]], registry=registry)
    claims = dict(token.claims)
    assert claims["htm"] == method
    assert claims["htu"] == url
    assert abs(claims["iat"] - time.time()) < 60
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) >= 16
    if access_token is None:
        assert "ath" not in claims
    else:
        digest = hashlib.sha256(access_token.encode()).digest()
        assert claims["ath"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    claims["jkt"] = JWKRegistry.import_key(header["jwk"]).thumbprint()
    return claims


# -- the token request of each dialect ----------------------------------------------------------------------


def test_the_sor_dialect_asks_for_its_two_scopes_and_sends_the_key_to_the_api_only(
    opco: ScriptedOpco, gateway: HttpOpcoGateway
) -> None:
    opco.on("/SorApiIdentityServer/connect/token", opco.token()).on("/SorApiEchangeCFA/v1/status", ok)

    gateway.service_status(endpoint(Opco.AKTO))

    [token_request] = opco.to("/SorApiIdentityServer/connect/token")
    assert token_request.method == "POST"
    assert form(token_request) == {
        "grant_type": ["client_credentials"],
        "client_id": ["software-id"],
        "client_secret": [CLIENT_SECRET],
        "scope": ["api.read api.write"],
    }
    for header in ("X-API-KEY", "EDITEUR", "Authorization", "DPoP"):
        assert header not in token_request.headers  # the CFA's key and the identity go to the API only
    [call] = opco.to("/SorApiEchangeCFA/v1/status")
    assert call.headers["Authorization"] == "Bearer token-S3CRET-1"
    assert call.headers["X-API-KEY"] == API_KEY
    assert (call.headers["LOGICIEL"], call.headers["VERSION"]) == ("Convergence", "1.4.2")
    assert "DPoP" not in call.headers


def test_the_keycloak_dialect_sends_no_scope_at_all(opco: ScriptedOpco, gateway: HttpOpcoGateway) -> None:
    opco.on("/SorApiIdentityServer/connect/token", opco.token()).on("/SorApiEchangeCFA/v1/status", ok)

    gateway.service_status(endpoint(Opco.OPCOEP))

    [token_request] = opco.to("/SorApiIdentityServer/connect/token")
    assert set(form(token_request)) == {"grant_type", "client_id", "client_secret"}  # no `scope`, not even empty


def test_a_key_only_opco_gets_no_token_request(opco: ScriptedOpco, gateway: HttpOpcoGateway) -> None:
    opco.on("/SorApiEchangeCFA/v1/status", ok)
    gateway.service_status(endpoint(Opco.OPCOMMERCE, client_id=None, client_secret=None, token_url=None))
    [call] = opco.requests
    assert "Authorization" not in call.headers
    assert call.headers["X-API-KEY"] == API_KEY


# -- DPoP (Okta, AFDAS) -------------------------------------------------------------------------------------


def test_the_okta_dialect_proves_the_key_on_the_token_request_and_on_each_call(
    opco: ScriptedOpco, gateway: HttpOpcoGateway
) -> None:
    not_found = answer(404, {"errors": [{"code": "INCONNU", "description": "Aucun dossier"}]})
    opco.on("/oauth2/aus-server/v1/token", opco.token("DPoP")).on("/SorApiEchangeCFA/v1/dossiers", not_found)

    gateway.find_dossier(endpoint(Opco.AFDAS), "CVG-1")
    gateway.find_dossier(endpoint(Opco.AFDAS), "CVG-2")

    [token_request] = opco.to("/oauth2/aus-server/v1/token")
    assert form(token_request)["scope"] == ["CFA_OPCO"]
    token_proof = proof_of(token_request, "POST", OKTA_TOKEN_URL)
    assert token_proof["jkt"] == RSA_KEY.thumbprint
    calls = opco.to("/SorApiEchangeCFA/v1/dossiers")
    assert [call.url.params["numeroInterne"] for call in calls] == ["CVG-1", "CVG-2"]
    proofs = []
    for call in calls:
        assert call.headers["Authorization"] == "DPoP token-S3CRET-1"  # one token for both calls
        proofs.append(proof_of(call, "GET", f"{BASE}/v1/dossiers", access_token="token-S3CRET-1"))
    assert {p["jkt"] for p in proofs} == {RSA_KEY.thumbprint}
    assert len({token_proof["jti"], *(p["jti"] for p in proofs)}) == 3  # a proof is for one request


def test_an_es256_key_signs_es256_proofs(opco: ScriptedOpco, gateway: HttpOpcoGateway) -> None:
    opco.on("/oauth2/aus-server/v1/token", opco.token("DPoP")).on("/SorApiEchangeCFA/v1/status", ok)
    gateway.service_status(endpoint(Opco.AFDAS, dpop_key=EC_KEY.private_jwk))
    [call] = opco.to("/SorApiEchangeCFA/v1/status")
    registry = jws.JWSRegistry()
    assert jws.extract_compact(call.headers["DPoP"].encode(), registry=registry).protected["alg"] == "ES256"
    assert proof_of(call, "GET", f"{BASE}/v1/status", access_token="token-S3CRET-1")["jkt"] == EC_KEY.thumbprint


def test_the_token_endpoint_nonce_is_put_in_a_second_proof(opco: ScriptedOpco, gateway: HttpOpcoGateway) -> None:
    use_nonce = answer(400, {"error": "use_dpop_nonce"}, **{"DPoP-Nonce": "nonce-1"})
    opco.on("/oauth2/aus-server/v1/token", use_nonce, opco.token("DPoP")).on("/SorApiEchangeCFA/v1/status", ok)

    gateway.service_status(endpoint(Opco.AFDAS))

    first, second = opco.to("/oauth2/aus-server/v1/token")
    assert "nonce" not in proof_of(first, "POST", OKTA_TOKEN_URL)
    assert proof_of(second, "POST", OKTA_TOKEN_URL)["nonce"] == "nonce-1"
    assert opco.issued == 1


def test_a_token_endpoint_that_keeps_asking_for_a_nonce_is_transient_not_a_refusal(
    opco: ScriptedOpco, gateway: HttpOpcoGateway
) -> None:
    opco.on("/oauth2/aus-server/v1/token", answer(400, {"error": "use_dpop_nonce"}, **{"DPoP-Nonce": "again"}))
    with pytest.raises(Exception, match="DPoP nonce") as raised:
        gateway.service_status(endpoint(Opco.AFDAS))
    assert type(raised.value).__name__ == "TransientOpcoError"
    assert len(opco.to("/oauth2/aus-server/v1/token")) == 2


def test_an_api_nonce_challenge_is_answered_once_with_the_same_token(
    opco: ScriptedOpco, gateway: HttpOpcoGateway
) -> None:
    challenge = answer(401, None, **{"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": "api-nonce"})
    opco.on("/oauth2/aus-server/v1/token", opco.token("DPoP")).on("/SorApiEchangeCFA/v1/status", challenge, ok)

    gateway.service_status(endpoint(Opco.AFDAS))

    first, second = opco.to("/SorApiEchangeCFA/v1/status")
    assert "nonce" not in proof_of(first, "GET", f"{BASE}/v1/status", access_token="token-S3CRET-1")
    assert proof_of(second, "GET", f"{BASE}/v1/status", access_token="token-S3CRET-1")["nonce"] == "api-nonce"
    assert opco.issued == 1  # not a refresh: the token was good


def test_a_401_refreshes_a_dpop_token_once_then_the_key_is_rejected(
    opco: ScriptedOpco, gateway: HttpOpcoGateway
) -> None:
    opco.on("/oauth2/aus-server/v1/token", opco.token("DPoP"))
    opco.on("/SorApiEchangeCFA/v1/status", answer(401, {"errors": [{"code": "JETON", "description": "expiré"}]}))

    with pytest.raises(KeyRejected):
        gateway.service_status(endpoint(Opco.AFDAS))

    calls = opco.to("/SorApiEchangeCFA/v1/status")
    assert [call.headers["Authorization"] for call in calls] == ["DPoP token-S3CRET-1", "DPoP token-S3CRET-2"]
    assert opco.issued == 2


def test_a_server_that_answers_a_bearer_token_gets_a_bearer_without_proof(
    opco: ScriptedOpco, gateway: HttpOpcoGateway
) -> None:
    opco.on("/oauth2/aus-server/v1/token", opco.token("Bearer")).on("/SorApiEchangeCFA/v1/status", ok)
    gateway.service_status(endpoint(Opco.AFDAS))
    [call] = opco.to("/SorApiEchangeCFA/v1/status")
    assert call.headers["Authorization"] == "Bearer token-S3CRET-1"
    assert "DPoP" not in call.headers


def test_tokens_are_kept_per_client_and_per_dpop_key(opco: ScriptedOpco, gateway: HttpOpcoGateway) -> None:
    opco.on("/oauth2/aus-server/v1/token", opco.token("DPoP")).on("/SorApiEchangeCFA/v1/status", ok)
    for changes in ({}, {}, {"client_id": "other-software"}, {"dpop_key": EC_KEY.private_jwk}):
        gateway.service_status(endpoint(Opco.AFDAS, **changes))
    assert opco.issued == 3
    jkts = [proof_of(r, "POST", OKTA_TOKEN_URL)["jkt"] for r in opco.to("/oauth2/aus-server/v1/token")]
    assert jkts == [RSA_KEY.thumbprint, RSA_KEY.thumbprint, EC_KEY.thumbprint]


# -- identity headers ---------------------------------------------------------------------------------------


def test_a_non_ascii_identity_travels_as_iso_8859_1_bytes(opco: ScriptedOpco, gateway: HttpOpcoGateway) -> None:
    opco.on("/SorApiEchangeCFA/v1/status", ok)
    gateway.service_status(endpoint(Opco.OPCOMMERCE, client_id=None, client_secret=None, token_url=None))
    [call] = opco.requests
    raw = dict(call.headers.raw)
    assert raw[b"EDITEUR"] == b"Int\xe9grale Academy"  # what requests (http.client) puts on the wire too
    assert call.headers["EDITEUR"] == "Intégrale Academy"  # read back as ISO-8859-1, as servers do


@pytest.mark.parametrize("editeur", ["Œuvres Logicielles", "Éditeur\n", " Éditeur", ""])
def test_an_identity_that_cannot_be_a_header_is_refused_when_configured(editeur: str) -> None:
    with pytest.raises(ValueError, match="editeur"):
        ClientIdentity(editeur=editeur, logiciel="Convergence", version="1.0")


# -- error shapes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "body", "messages"),
    [
        (
            Opco.ATLAS,
            {"description": "Dossier invalide", "errors": [{"code": "E1", "description": "apprenti.nom manquant"}]},
            ["Dossier invalide", "apprenti.nom manquant"],
        ),
        (Opco.AKTO, {"Description": "Fichier refusé"}, ["Fichier refusé"]),
        (Opco.OPCOEP, {"comment": "NIR invalide"}, ["NIR invalide"]),
        (Opco.OPCOEP, {"errors": [{"code": "E2", "description": "SIRET inconnu"}]}, ["SIRET inconnu"]),
        (Opco.OPCOMMERCE, {"errors": [{"code": "E3", "description": "Date"}]}, ["Date"]),
    ],
)
def test_each_opco_is_read_in_its_error_shape(
    opco: ScriptedOpco, gateway: HttpOpcoGateway, code: Opco, body: dict[str, Any], messages: list[str]
) -> None:
    opco.on("/SorApiIdentityServer/connect/token", opco.token())
    opco.on("/oauth2/aus-server/v1/token", opco.token())
    opco.on(f"/SorApiEchangeCFA/v{CATALOGUE[code].protocol}/dossiers", answer(400, body))
    keyed = {} if CATALOGUE[code].oauth else {"client_id": None, "client_secret": None, "token_url": None}
    with pytest.raises(RefusedByOpco) as refused:
        gateway.send_contract(endpoint(code, **keyed), "E-1", Cerfa())
    assert refused.value.messages == messages


def test_opco_ep_says_not_found_with_a_400_others_do_not(opco: ScriptedOpco, gateway: HttpOpcoGateway) -> None:
    opco.on("/SorApiIdentityServer/connect/token", opco.token())
    opco.on("/SorApiEchangeCFA/v1/dossiers", answer(400, {"comment": "Aucun dossier"}))
    opco.on("/SorApiEchangeCFA/v2/dossiers", answer(400, {"errors": [{"code": "E", "description": "requête"}]}))
    assert gateway.find_dossier(endpoint(Opco.OPCOEP), "CVG-404") is None
    with pytest.raises(RefusedByOpco):
        gateway.find_dossier(endpoint(Opco.ATLAS), "CVG-404")


def test_the_private_key_never_reaches_a_request(opco: ScriptedOpco, gateway: HttpOpcoGateway) -> None:
    opco.on("/oauth2/aus-server/v1/token", opco.token("DPoP")).on("/SorApiEchangeCFA/v1/status", ok)
    gateway.service_status(endpoint(Opco.AFDAS))
    private_d = json.loads(RSA_KEY.private_jwk)["d"]
    for request in opco.requests:
        assert private_d.encode() not in b"".join(value for _, value in request.headers.raw) + request.content


@pytest.mark.parametrize(("code", "path"), [(Opco.ATLAS, "/v1/Factures"), (Opco.OPCOEP, "/v1/factures")])
def test_an_invoice_goes_to_the_path_of_the_opcos_case(
    opco: ScriptedOpco, gateway: HttpOpcoGateway, code: Opco, path: str
) -> None:
    """`Factures` with a capital F on the SOR hosts, `factures` elsewhere (opco-wire.md §4.1, §8)."""
    opco.on("/SorApiIdentityServer/connect/token", opco.token())
    opco.on(f"/SorApiEchangeCFA{path}", answer(200, {"numeroInterneFacture": "F-1", "numeroInterneDocument": "D-1"}))

    sent = gateway.send_invoice(endpoint(code, token_url=TOKEN_URL, dpop_key=None), outgoing_invoice())

    assert (sent.numero_interne_facture, sent.numero_interne_document) == ("F-1", "D-1")

    assert opco.requests[-1].url.path == f"/SorApiEchangeCFA{path}"
