"""The httpx OPCO client against scripted OPCOs (httpx.MockTransport): requests, parsing, errors, OAuth, secrets."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from application.opco.opco_gateway import (
    DossierState,
    KeyRejected,
    NotSupported,
    OpcoEndpoint,
    OpcoError,
    RefusedByOpco,
    SentDossier,
    TransientOpcoError,
)
from domain.contracts.cerfa_document import parse_cerfa
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client import ClientIdentity, HttpOpcoGateway
from infrastructure.opco.opco_client.errors import parse_retry_after
from infrastructure.opco.opco_client.oauth import Grant, TokenCache
from infrastructure.opco.opco_wire import dossier_body, encode, wire_variant
from tests.conftest import load_example

IDENTITY = ClientIdentity(editeur="Editeur SA", logiciel="Convergence", version="1.4.2")
BASE = "https://opco.test/ApiEchangeCFA"
TOKEN_URL = "https://auth.test/oauth2/token"
API_KEY = "cfa-key-S3CRET-0123456789"
CLIENT_SECRET = "client-secret-S3CRET-987654"
TOKEN = "token-S3CRET-first"
SECRETS = (API_KEY, CLIENT_SECRET, TOKEN, "token-S3CRET-second")
LOGGER = "convergence.opco_client"
CERFA = parse_cerfa(load_example("cerfa-complete.json"))

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Opcos:
    """A scripted OPCO (and its token endpoint): answers per (method, path), in order, the last one repeating."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._answers: dict[tuple[str, str], list[Answer]] = {}
        self._lock = threading.Lock()

    def on(self, method: str, path: str, *answers: Answer) -> Opcos:
        self._answers[(method, path)] = list(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            queue = self._answers.get((request.method, request.url.path))
            if not queue:
                return httpx.Response(599, text=f"no answer scripted for {request.method} {request.url.path}")
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer

    def calls(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]


def endpoint(opco: Opco = Opco.AKTO, *, protocol: int = 2, oauth: bool = False, **changes: Any) -> OpcoEndpoint:
    fields: dict[str, Any] = {"opco": opco, "base_url": BASE, "protocol": protocol, "api_key": API_KEY}
    fields["errors"] = CATALOGUE[opco].errors  # as OpcoAccounts.endpoint gives it
    if oauth:
        fields |= {"client_id": "software-id", "client_secret": CLIENT_SECRET, "token_url": TOKEN_URL}
        fields["scope"] = "api.read api.write"
    return OpcoEndpoint(**(fields | changes))


def token_answer(token: str = TOKEN, expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(200, json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in})


@pytest.fixture
def opcos() -> Opcos:
    return Opcos()


@pytest.fixture
def gateway(opcos: Opcos) -> Iterator[HttpOpcoGateway]:
    with HttpOpcoGateway(IDENTITY, transport=httpx.MockTransport(opcos)) as client:
        yield client


def dossier_json(**cerfa: Any) -> dict[str, Any]:
    return {
        "cerfa": {
            "numeroInterne": "CFA-2026-001",
            "numeroExterne": "CA-0150926-1",
            "numeroDeca": "02B202212000000",
            "etat": "ENGAGE",
            "commentaireEtat": "Pris en charge",
            "apprenti": {"nom": "Durand"},
            **cerfa,
        },
        "engagement": 6500.1,
        "echeances": [
            {
                "numero": 1,
                "codification": "E1",
                "montantTotal": 0.1,
                "montantRegle": "1 234,56",
                "montantEnCoursInstruction": 0,
                "dateOuverture": "2026-09-01T00:00:00",
                "dateDebut": "2026-09-01",
                "dateFin": "2027-02-28",
                "iban": "FR7630006000011234567890189",
            },
            {"numero": "2", "codification": "E2", "montantTotal": "3250.05", "dateDebut": "01/03/2027"},
        ],
        "detailsFacturation": {"iban": "FR76..."},
    }


# --- requests: paths, headers, bodies ---------------------------------------------------------------------------


def test_a_contract_is_posted_as_json_with_the_identity_and_the_key(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    answer = httpx.Response(200, json={"numeroExterne": "X-1", "numeroInterne": "CFA-2026-001"})
    opcos.on("POST", "/ApiEchangeCFA/v2/dossiers", answer)

    sent = gateway.send_contract(endpoint(), "CFA-2026-001", CERFA)

    (request,) = opcos.requests
    assert sent == SentDossier(
        numero_externe="X-1",
        etat=None,
        numero_interne="CFA-2026-001",
        sent_sha256=hashlib.sha256(request.content).hexdigest(),  # what was sent and answered, for the record
        answer_sha256=hashlib.sha256(answer.content).hexdigest(),
    )
    assert str(request.url) == "https://opco.test/ApiEchangeCFA/v2/dossiers"
    assert request.headers["X-API-KEY"] == API_KEY
    assert request.headers["EDITEUR"] == "Editeur SA"
    assert request.headers["LOGICIEL"] == "Convergence"
    assert request.headers["VERSION"] == "1.4.2"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("Convergence/1.4.2 (Editeur SA)")
    assert request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in request.headers
    assert request.content == encode(dossier_body("CFA-2026-001", CERFA, wire_variant(Opco.AKTO)))
    sent_body = json.loads(request.content)
    assert sent_body["cerfa"]["numeroInterne"] == "CFA-2026-001"
    assert sent_body["cerfa"]["contrat"]["dateDebutContrat"] == "2026-09-01T00:00:00+02:00"
    assert sent_body["cerfa"]["apprenti"]["adresse"]["adresse1"] == "7 B rue Francis de Pressensé"


def test_protocol_1_and_a_trailing_slash_give_the_v1_path(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("POST", "/ApiEchangeCFA/v1/dossiers", httpx.Response(200, json={}))

    gateway.send_contract(endpoint(protocol=1, base_url=BASE + "/"), "CFA-1", CERFA)

    assert [str(request.url) for request in opcos.requests] == ["https://opco.test/ApiEchangeCFA/v1/dossiers"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (httpx.Response(200, json={"numeroExterne": "CA-7", "numeroInterne": "OPCO-77"}), ("CA-7", None, "OPCO-77")),
        (
            httpx.Response(201, json={"numeroInterne": "A", "numeroExterne": 42, "etat": "TRANSMIS"}),
            ("42", "TRANSMIS", "A"),
        ),
        (
            httpx.Response(200, json={"cerfa": {"numeroExterne": "CA-1", "etat": "EN_COURS_INSTRUCTION"}}),
            ("CA-1", "EN_COURS_INSTRUCTION", None),
        ),
        (httpx.Response(201, json={"numeroInterne": "A"}), (None, None, "A")),
        (httpx.Response(201), (None, None, None)),
        (httpx.Response(200, text="<html>OK</html>"), (None, None, None)),
        (httpx.Response(200, json=[{"numeroExterne": "L-1", "etat": "TRANSMIS"}]), ("L-1", "TRANSMIS", None)),
    ],
    ids=["observed", "flat-with-etat", "under-cerfa", "fields-absent", "empty-body", "not-json", "list"],
)
def test_the_answer_to_a_post_is_read_liberally(
    opcos: Opcos, gateway: HttpOpcoGateway, answer: httpx.Response, expected: tuple[str | None, ...]
) -> None:
    opcos.on("POST", "/ApiEchangeCFA/v2/dossiers", answer)

    sent = gateway.send_contract(endpoint(), "CFA-1", CERFA)

    assert (sent.numero_externe, sent.etat, sent.numero_interne) == expected


def test_an_amount_with_two_decimals_keeps_them(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    """The JSON number 16000.00 is 16000.00, not the float 16000.0 (which the status API then showed)."""
    body = b'{"cerfa": {"numeroInterne": "CFA-1", "etat": "ENGAGE"}, "engagement": 16000.00, "echeances": []}'
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers", httpx.Response(200, content=body))

    found = gateway.find_dossier(endpoint(), "CFA-1")

    assert found is not None
    assert str(found.engagement) == "16000.00"


def test_a_dossier_is_read_by_its_numero_interne_with_exact_amounts(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    body = dossier_json()
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers", httpx.Response(200, json=body))

    found = gateway.find_dossier(endpoint(), "CFA-2026-001")

    (request,) = opcos.requests
    assert request.url.params["numeroInterne"] == "CFA-2026-001"
    assert request.headers["X-API-KEY"] == API_KEY
    assert found is not None
    assert (found.numero_interne, found.numero_externe, found.numero_deca) == (
        "CFA-2026-001",
        "CA-0150926-1",
        "02B202212000000",
    )
    assert (found.etat, found.commentaire_etat) == ("ENGAGE", "Pris en charge")
    assert found.engagement == Decimal("6500.1")
    first, second = found.echeances
    assert first.montant_total == Decimal("0.1")  # not 0.1000000000000000055511151231257827
    assert str(first.montant_total) == "0.1"
    assert first.montant_regle == Decimal("1234.56")
    assert first.montant_en_cours_instruction == Decimal(0)
    assert (first.numero, first.codification) == (1, "E1")
    assert (first.date_ouverture, first.date_debut, first.date_fin) == (
        date(2026, 9, 1),
        date(2026, 9, 1),
        date(2027, 2, 28),
    )
    assert (second.numero, second.montant_total, second.montant_regle) == (2, Decimal("3250.05"), Decimal(0))
    assert (second.date_debut, second.date_ouverture) == (date(2027, 3, 1), None)
    assert all(isinstance(value, Decimal) for value in (first.montant_total, second.montant_total))
    assert found.raw == json.loads(json.dumps(body), parse_float=Decimal)  # as sent, its numbers exact


def test_an_unreadable_amount_fails_rather_than_becoming_zero(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    body = dossier_json()
    body["echeances"][0]["montantTotal"] = "environ 3000"
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers", httpx.Response(200, json=body))

    with pytest.raises(OpcoError, match=r"echeances\[1\]\.montantTotal"):
        gateway.find_dossier(endpoint(), "CFA-2026-001")


@pytest.mark.parametrize(
    ("opco", "answer"),
    [
        (Opco.AKTO, httpx.Response(404, json={"errors": [{"message": "Dossier inconnu"}]})),
        (Opco.OPCOEP, httpx.Response(400, json={"comment": "Aucun dossier pour ce numeroInterne"})),
        (Opco.ATLAS, httpx.Response(200)),
        (Opco.ATLAS, httpx.Response(200, text="null")),
        (Opco.ATLAS, httpx.Response(200, json=[])),
    ],
    ids=["404", "opco-ep-400", "empty-200", "null-200", "empty-list-200"],
)
def test_an_unknown_dossier_is_none(opcos: Opcos, gateway: HttpOpcoGateway, opco: Opco, answer: httpx.Response) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers", answer)

    assert gateway.find_dossier(endpoint(opco), "CFA-404") is None
    assert len(opcos.requests) == 1


def test_a_400_is_a_refusal_outside_opco_ep(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers", httpx.Response(400, json={"comment": "numeroInterne invalide"}))

    with pytest.raises(RefusedByOpco) as refused:
        gateway.find_dossier(endpoint(Opco.AKTO), "CFA-2026-001")

    assert (refused.value.status, refused.value.messages) == (400, ["numeroInterne invalide"])


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(200, text="<html>maintenance</html>"), httpx.Response(200, json={"message": "introuvable"})],
    ids=["not-json", "no-dossier-field"],
)
def test_an_unreadable_dossier_is_an_error_not_a_not_found(
    opcos: Opcos, gateway: HttpOpcoGateway, answer: httpx.Response
) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers", answer)

    with pytest.raises(OpcoError) as failure:
        gateway.find_dossier(endpoint(), "CFA-2026-001")

    assert type(failure.value) is OpcoError


def test_the_service_status_is_read_under_v1_whatever_the_protocol(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v1/status", httpx.Response(200, json={"status": "UP", "version": "2.3"}))

    assert gateway.service_status(endpoint(protocol=2)) == {"status": "UP", "version": "2.3"}
    assert opcos.requests[0].headers["X-API-KEY"] == API_KEY


def test_a_status_that_is_not_json_is_returned_as_text(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v1/status", httpx.Response(200, text="  OK \n"))

    assert gateway.service_status(endpoint()) == {"body": "OK"}


@pytest.mark.parametrize(
    ("body", "valid", "expires_on", "comment"),
    [
        ({"status": "success", "dateFinValidite": "2027-06-30", "comment": None}, True, date(2027, 6, 30), None),
        ({"status": "error", "comment": "Clé expirée"}, False, None, "Clé expirée"),
        ({"status": "SUCCESS", "dateFinValidite": "2027-06-30T00:00:00"}, True, date(2027, 6, 30), None),
    ],
)
def test_key_info_sends_the_siren_and_the_key(
    opcos: Opcos,
    gateway: HttpOpcoGateway,
    body: dict[str, Any],
    valid: bool,
    expires_on: date | None,
    comment: str | None,
) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v2/cfakeyinfo", httpx.Response(200, json=body))

    info = gateway.key_info(endpoint(protocol=1), "123456789")

    assert (info.valid, info.expires_on, info.comment) == (valid, expires_on, comment)
    (request,) = opcos.requests
    assert dict(request.url.params) == {"siren": "123456789", "XAPIKEY": API_KEY}


def test_key_info_at_an_opco_without_it_is_not_supported(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v2/cfakeyinfo", httpx.Response(501, json={"error": "NOT_SUPPORTED"}))

    with pytest.raises(NotSupported):
        gateway.key_info(endpoint(), "123456789")


def test_the_default_timeouts_are_explicit(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v1/status", httpx.Response(200, json={}))

    gateway.service_status(endpoint())

    assert opcos.requests[0].extensions["timeout"] == {"connect": 5.0, "read": 30.0, "write": 10.0, "pool": 10.0}


def test_timeouts_can_be_chosen(opcos: Opcos) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v1/status", httpx.Response(200, json={}))
    timeout = httpx.Timeout(1.0, read=2.0)

    with HttpOpcoGateway(IDENTITY, transport=httpx.MockTransport(opcos), timeout=timeout) as client:
        client.service_status(endpoint())

    assert opcos.requests[0].extensions["timeout"] == {"connect": 1.0, "read": 2.0, "write": 1.0, "pool": 1.0}


def test_a_closed_gateway_sends_nothing(opcos: Opcos) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v1/status", httpx.Response(200, json={}))
    with HttpOpcoGateway(IDENTITY, transport=httpx.MockTransport(opcos)) as client:
        client.service_status(endpoint())

    with pytest.raises(RuntimeError):
        client.service_status(endpoint())
    assert len(opcos.requests) == 1


def test_the_identity_must_fit_in_headers() -> None:
    with pytest.raises(ValueError, match="editeur"):  # Œ has no ISO-8859-1 byte: it cannot go in a header
        ClientIdentity(editeur="Œuvres Logicielles", logiciel="Convergence", version="1.0")
    with pytest.raises(ValueError, match="version"):
        ClientIdentity(editeur="Editeur", logiciel="Convergence", version="")


def test_a_key_that_cannot_be_a_header_is_rejected_before_sending(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    with pytest.raises(KeyRejected):
        gateway.service_status(endpoint(oauth=True, api_key="clé\nmal collée"))

    assert opcos.requests == []


def test_one_debug_line_per_call(opcos: Opcos, gateway: HttpOpcoGateway, caplog: pytest.LogCaptureFixture) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers", httpx.Response(404))
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    gateway.find_dossier(endpoint(), "CFA-7")

    lines = [record for record in caplog.records if record.name == LOGGER]
    assert len(lines) == 1
    assert lines[0].levelno == logging.DEBUG
    assert lines[0].getMessage().startswith("AKTO GET /v2/dossiers?numeroInterne=CFA-7 -> 404 in ")
    assert lines[0].getMessage().endswith(" ms")


# --- dossier states: pagination ---------------------------------------------------------------------------------


def states_page(page: int, numbers: range, total: int | None = 120) -> httpx.Response:
    items = [{"numeroInterne": f"N-{n}", "numeroExterne": f"E-{n}", "etat": "ENGAGE"} for n in numbers]
    body: dict[str, Any] = {"count": len(items), "page": page, "EtatDossierResult": items}
    if total is not None:
        body["total"] = total
    return httpx.Response(200, json=body)


def paged(pages: dict[int, httpx.Response]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: pages.get(int(request.url.params["numeroPage"]), httpx.Response(200, json={"total": 0}))


def test_states_are_read_page_after_page_until_the_total(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    pages = {1: states_page(1, range(50)), 2: states_page(2, range(50, 100)), 3: states_page(3, range(100, 120))}
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers/etats", paged(pages))

    states = list(gateway.dossier_states(endpoint()))

    assert [request.url.params["numeroPage"] for request in opcos.requests] == ["1", "2", "3"]
    assert len(states) == 120
    assert len({state.numero_interne for state in states}) == 120
    assert states[0] == DossierState(numero_interne="N-0", numero_externe="E-0", numero_deca=None, etat="ENGAGE")
    assert all(request.headers["X-API-KEY"] == API_KEY for request in opcos.requests)


def test_states_stop_on_an_empty_page(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    pages = {1: states_page(1, range(50), total=500), 2: states_page(2, range(0), total=500)}
    opcos.on("GET", "/ApiEchangeCFA/v1/dossiers/etats", paged(pages))

    states = list(gateway.dossier_states(endpoint(protocol=1)))

    assert len(states) == 50
    assert len(opcos.requests) == 2


def test_states_without_a_total_stop_on_the_first_empty_page(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    pages = {1: states_page(1, range(3), total=None), 2: states_page(2, range(3, 5), total=None)}
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers/etats", paged(pages))

    assert len(list(gateway.dossier_states(endpoint()))) == 5
    assert len(opcos.requests) == 3


def test_a_repeated_page_stops_the_reading_with_a_warning(
    opcos: Opcos, gateway: HttpOpcoGateway, caplog: pytest.LogCaptureFixture
) -> None:
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers/etats", states_page(1, range(50)))  # ignores numeroPage

    states = list(gateway.dossier_states(endpoint()))

    assert len(states) == 50
    assert len(opcos.requests) == 2
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING and record.name == LOGGER]
    assert len(warnings) == 1
    assert "page 2 repeats" in warnings[0].getMessage()


def test_states_without_numero_interne_or_etat_are_skipped_with_a_warning(
    opcos: Opcos, gateway: HttpOpcoGateway, caplog: pytest.LogCaptureFixture
) -> None:
    items = [
        {"numeroInterne": "N-1", "etat": "TRANSMIS", "numeroDeca": "02B202212000000"},
        {"numeroExterne": "E-2", "etat": "ENGAGE"},
        {"numeroInterne": "N-3", "etat": None},
        {"numeroInterne": "N-4", "etat": "REFUSE", "commentaireEtat": "Pièce manquante"},
    ]
    body = {"total": 4, "count": 4, "page": 1, "EtatDossierResult": items}
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers/etats", httpx.Response(200, json=body))

    states = list(gateway.dossier_states(endpoint()))

    assert states == [
        DossierState(numero_interne="N-1", numero_externe=None, numero_deca="02B202212000000", etat="TRANSMIS"),
        DossierState("N-4", None, None, "REFUSE", commentaire_etat="Pièce manquante"),
    ]
    assert len(opcos.requests) == 1  # the 4 items read reach the total, skipped or not
    assert len([record for record in caplog.records if record.levelno == logging.WARNING]) == 2


def test_a_failing_page_raises_from_the_iteration(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    pages = {1: states_page(1, range(50)), 2: httpx.Response(503)}
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers/etats", paged(pages))
    states = gateway.dossier_states(endpoint())

    first_page = [next(states) for _ in range(50)]

    assert len(first_page) == 50
    with pytest.raises(TransientOpcoError):
        next(states)


# --- classification ---------------------------------------------------------------------------------------------


def post(gateway: HttpOpcoGateway) -> None:
    gateway.send_contract(endpoint(), "CFA-1", CERFA)


def get(gateway: HttpOpcoGateway) -> None:
    gateway.service_status(endpoint())


CALLS = {"POST": ("POST", "/ApiEchangeCFA/v2/dossiers", post), "GET": ("GET", "/ApiEchangeCFA/v1/status", get)}


def failure_of(opcos: Opcos, gateway: HttpOpcoGateway, side: str, answer: Answer) -> OpcoError:
    method, path, call = CALLS[side]
    opcos.on(method, path, answer)
    with pytest.raises(OpcoError) as failure:
        call(gateway)
    assert len(opcos.requests) == 1, "the client never retries by itself"
    return failure.value


@pytest.mark.parametrize("side", ["POST", "GET"])
@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow connect"), httpx.PoolTimeout("pool full")],
    ids=["ConnectError", "ConnectTimeout", "PoolTimeout"],
)
def test_nothing_was_sent_when_the_connection_failed(
    opcos: Opcos, gateway: HttpOpcoGateway, side: str, error: Exception
) -> None:
    failure = failure_of(opcos, gateway, side, error)

    assert isinstance(failure, TransientOpcoError)
    assert failure.may_have_reached is False
    assert failure.retry_after is None
    assert type(error).__name__ in str(failure)


@pytest.mark.parametrize(("side", "reached"), [("POST", True), ("GET", False)])
@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.WriteTimeout("write timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset"),
        httpx.WriteError("broken pipe"),
    ],
    ids=["ReadTimeout", "WriteTimeout", "RemoteProtocolError", "ReadError", "WriteError"],
)
def test_a_post_broken_after_sending_may_have_reached_the_opco(
    opcos: Opcos, gateway: HttpOpcoGateway, side: str, reached: bool, error: Exception
) -> None:
    failure = failure_of(opcos, gateway, side, error)

    assert isinstance(failure, TransientOpcoError)
    assert failure.may_have_reached is reached


@pytest.mark.parametrize("side", ["POST", "GET"])
def test_a_request_that_cannot_be_built_is_not_transient(opcos: Opcos, gateway: HttpOpcoGateway, side: str) -> None:
    failure = failure_of(opcos, gateway, side, httpx.UnsupportedProtocol("no scheme"))

    assert not isinstance(failure, TransientOpcoError)
    assert "configuration" in str(failure)


@pytest.mark.parametrize("side", ["POST", "GET"])
@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), (None, None), ("soon", None)])
def test_429_is_transient_with_retry_after_in_seconds(
    opcos: Opcos, gateway: HttpOpcoGateway, side: str, header: str | None, expected: float | None
) -> None:
    headers = {"Retry-After": header} if header is not None else {}

    failure = failure_of(opcos, gateway, side, httpx.Response(429, headers=headers, text="Too Many Requests"))

    assert isinstance(failure, TransientOpcoError)
    assert failure.retry_after == expected
    assert failure.may_have_reached is False


@pytest.mark.parametrize("side", ["POST", "GET"])
def test_429_with_an_http_date_gives_the_seconds_to_wait(opcos: Opcos, gateway: HttpOpcoGateway, side: str) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)

    failure = failure_of(opcos, gateway, side, httpx.Response(429, headers={"Retry-After": later}))

    assert isinstance(failure, TransientOpcoError)
    assert failure.retry_after is not None
    assert 100 <= failure.retry_after <= 120


def test_retry_after_parsing() -> None:
    now = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after(" 1.5 ", now=now) == 1.5
    assert parse_retry_after("Tue, 01 Sep 2026 12:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Tue, 01 Sep 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-3", now=now) is None
    assert parse_retry_after("tomorrow", now=now) is None
    assert parse_retry_after("", now=now) is None
    assert parse_retry_after(None, now=now) is None


@pytest.mark.parametrize(("side", "reached"), [("POST", True), ("GET", False)])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient_and_a_post_may_have_reached(
    opcos: Opcos, gateway: HttpOpcoGateway, side: str, reached: bool, status: int
) -> None:
    failure = failure_of(opcos, gateway, side, httpx.Response(status, headers={"Retry-After": "30"}, text="oops"))

    assert isinstance(failure, TransientOpcoError)
    assert failure.may_have_reached is reached
    assert failure.retry_after == 30.0


@pytest.mark.parametrize("side", ["POST", "GET"])
def test_401_without_oauth_is_a_rejected_key(opcos: Opcos, gateway: HttpOpcoGateway, side: str) -> None:
    failure = failure_of(opcos, gateway, side, httpx.Response(401, json={"message": "Unauthorized"}))

    assert isinstance(failure, KeyRejected)
    assert "Unauthorized" in str(failure)


@pytest.mark.parametrize("side", ["POST", "GET"])
def test_403_is_a_rejected_key_with_the_opcos_message(opcos: Opcos, gateway: HttpOpcoGateway, side: str) -> None:
    body = {"errors": [{"code": "CFA_KEY", "description": "Clé API CFA expirée le 2026-08-31"}]}

    failure = failure_of(opcos, gateway, side, httpx.Response(403, json=body))

    assert isinstance(failure, KeyRejected)
    assert "Clé API CFA expirée le 2026-08-31" in str(failure)


@pytest.mark.parametrize("side", ["POST", "GET"])
@pytest.mark.parametrize(
    ("status", "answer", "messages"),
    [
        (
            400,
            {"errors": [{"champ": "apprenti.nom", "description": "obligatoire"}, {"message": "Cerfa incomplet"}]},
            ["apprenti.nom: obligatoire", "Cerfa incomplet"],
        ),
        (
            422,
            {"errors": [{"field": "contrat.dateDebutContrat", "libelle": "date invalide"}]},
            ["contrat.dateDebutContrat: date invalide"],
        ),
        (409, {"errors": ["Dossier déjà transmis"]}, ["Dossier déjà transmis"]),
        (400, {"comment": "SIRET employeur inconnu"}, ["SIRET employeur inconnu"]),
        (400, {"errors": {"apprenti.nir": ["format", "longueur"]}}, ["apprenti.nir: format", "apprenti.nir: longueur"]),
        (422, "  Bad\n  request  ", ["Bad request"]),
        (400, "", ["HTTP 400 without a message"]),
        (400, {"unexpected": 1}, ['{"unexpected":1}']),
    ],
    ids=[
        "errors-champ",
        "errors-field-libelle",
        "errors-strings",
        "comment",
        "aspnet",
        "text",
        "empty",
        "unknown-json",
    ],
)
def test_400_409_422_are_refusals_with_the_opcos_messages(
    opcos: Opcos, gateway: HttpOpcoGateway, side: str, status: int, answer: Any, messages: list[str]
) -> None:
    response = httpx.Response(status, text=answer) if isinstance(answer, str) else httpx.Response(status, json=answer)

    failure = failure_of(opcos, gateway, side, response)

    assert isinstance(failure, RefusedByOpco)
    assert (failure.status, failure.messages) == (status, messages)


def test_404_on_a_post_is_a_refusal(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    failure = failure_of(opcos, gateway, "POST", httpx.Response(404, json={"message": "Route inconnue"}))

    assert isinstance(failure, RefusedByOpco)
    assert (failure.status, failure.messages) == (404, ["Route inconnue"])


def test_404_on_another_get_is_a_plain_error(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    failure = failure_of(opcos, gateway, "GET", httpx.Response(404, text="Not Found"))

    assert type(failure) is OpcoError
    assert "404" in str(failure)


@pytest.mark.parametrize("side", ["POST", "GET"])
def test_501_is_not_supported(opcos: Opcos, gateway: HttpOpcoGateway, side: str) -> None:
    assert isinstance(failure_of(opcos, gateway, side, httpx.Response(501)), NotSupported)


@pytest.mark.parametrize("side", ["POST", "GET"])
@pytest.mark.parametrize("status", [302, 410, 418, 505])
def test_any_other_status_is_an_error_with_a_trimmed_body(
    opcos: Opcos, gateway: HttpOpcoGateway, side: str, status: int
) -> None:
    failure = failure_of(opcos, gateway, side, httpx.Response(status, text="<html>" + "x" * 5000 + "</html>"))

    assert type(failure) is OpcoError
    assert f"unexpected answer {status}" in str(failure)
    assert "<html>xxx" in str(failure)
    assert len(str(failure)) < 700


# --- OAuth ------------------------------------------------------------------------------------------------------


def test_one_token_serves_several_calls(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("POST", "/oauth2/token", token_answer())
    opcos.on("GET", "/ApiEchangeCFA/v1/status", httpx.Response(200, json={}))

    for _ in range(3):
        gateway.service_status(endpoint(oauth=True))

    (token_request,) = opcos.calls("/oauth2/token")
    assert str(token_request.url) == TOKEN_URL
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["software-id"],
        "client_secret": [CLIENT_SECRET],
        "scope": ["api.read api.write"],
    }
    assert "X-API-KEY" not in token_request.headers  # the CFA's key does not go to the token endpoint
    api_calls = opcos.calls("/ApiEchangeCFA/v1/status")
    assert len(api_calls) == 3
    assert all(request.headers["Authorization"] == f"Bearer {TOKEN}" for request in api_calls)
    assert all(request.headers["X-API-KEY"] == API_KEY for request in api_calls)


def test_no_scope_is_sent_when_there_is_none(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("POST", "/oauth2/token", token_answer())
    opcos.on("GET", "/ApiEchangeCFA/v1/status", httpx.Response(200, json={}))

    gateway.service_status(endpoint(Opco.OPCOEP, oauth=True, scope=None))

    assert "scope" not in parse_qs(opcos.calls("/oauth2/token")[0].content.decode())


def test_tokens_are_cached_per_token_url_client_and_scope(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("POST", "/oauth2/token", token_answer())
    opcos.on("GET", "/ApiEchangeCFA/v1/status", httpx.Response(200, json={}))

    gateway.service_status(endpoint(Opco.AKTO, oauth=True))
    gateway.service_status(endpoint(Opco.ATLAS, oauth=True, api_key="another-cfa-key-1234"))  # same software creds
    gateway.service_status(endpoint(Opco.AKTO, oauth=True, scope=".default"))
    gateway.service_status(endpoint(Opco.AKTO, oauth=True, client_id="other-software"))

    assert len(opcos.calls("/oauth2/token")) == 3


def test_a_token_is_refetched_shortly_before_it_expires() -> None:
    now = [1000.0]
    fetched: list[int] = []

    def fetch(_: OpcoEndpoint) -> Grant:
        fetched.append(1)
        return Grant(f"token-{len(fetched)}", 3600)

    cache = TokenCache(fetch, clock=lambda: now[0])
    assert cache.token(endpoint(oauth=True)).access_token == "token-1"
    now[0] += 3539
    assert cache.token(endpoint(oauth=True)).access_token == "token-1"
    now[0] += 2  # within the last minute of the token's life
    assert cache.token(endpoint(oauth=True)).access_token == "token-2"
    assert len(fetched) == 2


def test_concurrent_callers_share_one_token_fetch(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    def slow_token(_: httpx.Request) -> httpx.Response:
        time.sleep(0.1)
        return token_answer()

    opcos.on("POST", "/oauth2/token", slow_token)
    opcos.on("GET", "/ApiEchangeCFA/v1/status", httpx.Response(200, json={"status": "UP"}))

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: gateway.service_status(endpoint(oauth=True)), range(32)))

    assert results == [{"status": "UP"}] * 32
    assert len(opcos.calls("/oauth2/token")) == 1
    assert len(opcos.calls("/ApiEchangeCFA/v1/status")) == 32


def test_a_401_refreshes_the_token_once_and_retries(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("POST", "/oauth2/token", token_answer(TOKEN), token_answer("token-S3CRET-second"))
    opcos.on("POST", "/ApiEchangeCFA/v2/dossiers", httpx.Response(401), httpx.Response(201, json={"etat": "TRANSMIS"}))

    sent = gateway.send_contract(endpoint(oauth=True), "CFA-1", CERFA)

    assert sent.etat == "TRANSMIS"
    assert len(opcos.calls("/oauth2/token")) == 2
    first, second = opcos.calls("/ApiEchangeCFA/v2/dossiers")
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert second.headers["Authorization"] == "Bearer token-S3CRET-second"
    assert second.content == first.content == encode(dossier_body("CFA-1", CERFA, wire_variant(Opco.AKTO)))


def test_a_second_401_is_a_rejected_key(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("POST", "/oauth2/token", token_answer(TOKEN), token_answer("token-S3CRET-second"))
    opcos.on("GET", "/ApiEchangeCFA/v2/dossiers", httpx.Response(401, json={"message": "invalid token"}))

    with pytest.raises(KeyRejected):
        gateway.find_dossier(endpoint(oauth=True), "CFA-1")

    assert len(opcos.calls("/oauth2/token")) == 2
    assert len(opcos.calls("/ApiEchangeCFA/v2/dossiers")) == 2


@pytest.mark.parametrize("status", [400, 401, 403])
def test_refused_client_credentials_are_a_rejected_key_naming_the_software(
    opcos: Opcos, gateway: HttpOpcoGateway, status: int
) -> None:
    body = {"error": "invalid_client", "error_description": "Client authentication failed"}
    opcos.on("POST", "/oauth2/token", httpx.Response(status, json=body))

    with pytest.raises(KeyRejected) as rejected:
        post_with_oauth(gateway)

    assert "software's OAuth client credentials" in str(rejected.value)
    assert "Client authentication failed" in str(rejected.value)
    assert opcos.calls("/ApiEchangeCFA/v2/dossiers") == []


def post_with_oauth(gateway: HttpOpcoGateway) -> None:
    gateway.send_contract(endpoint(oauth=True), "CFA-1", CERFA)


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(503), httpx.ConnectError("refused"), httpx.ReadTimeout("slow")],
    ids=["503", "connect", "read"],
)
def test_a_failing_token_endpoint_is_transient_and_the_dossier_was_not_sent(
    opcos: Opcos, gateway: HttpOpcoGateway, answer: Answer
) -> None:
    opcos.on("POST", "/oauth2/token", answer)

    with pytest.raises(TransientOpcoError) as failure:
        post_with_oauth(gateway)

    assert failure.value.may_have_reached is False
    assert opcos.calls("/ApiEchangeCFA/v2/dossiers") == []


def test_a_token_answer_without_a_token_is_an_error(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    opcos.on("POST", "/oauth2/token", httpx.Response(200, json={"token_type": "Bearer"}))

    with pytest.raises(OpcoError, match="without an access_token"):
        post_with_oauth(gateway)


def test_incomplete_oauth_settings_are_an_error(opcos: Opcos, gateway: HttpOpcoGateway) -> None:
    with pytest.raises(OpcoError, match="token_url"):
        gateway.service_status(endpoint(oauth=True, token_url=None))

    assert opcos.requests == []


# --- secrets ----------------------------------------------------------------------------------------------------


def echo(status: int) -> Callable[[httpx.Request], httpx.Response]:
    """An OPCO that quotes back everything it received: the key, the token, the URL."""

    def answer(request: httpx.Request) -> httpx.Response:
        quoted = f"key={request.headers.get('X-API-KEY')} auth={request.headers.get('Authorization')} url={request.url}"
        return httpx.Response(status, json={"errors": [{"message": quoted}], "comment": quoted})

    return answer


def echo_token_form(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401, json={"error": "invalid_client", "error_description": request.content.decode()})


def leaky_transport_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadError(f"reset while talking to {request.url} with {request.headers.get('X-API-KEY')}")


SCENARIOS: list[tuple[str, Answer, str]] = [
    ("403", echo(403), "/ApiEchangeCFA/v2/dossiers"),
    ("400", echo(400), "/ApiEchangeCFA/v2/dossiers"),
    ("500", echo(500), "/ApiEchangeCFA/v2/dossiers"),
    ("401", echo(401), "/ApiEchangeCFA/v2/dossiers"),
    ("418", echo(418), "/ApiEchangeCFA/v2/dossiers"),
    ("transport", leaky_transport_error, "/ApiEchangeCFA/v2/dossiers"),
    ("token", echo_token_form, "/oauth2/token"),
]


@pytest.mark.parametrize(("name", "answer", "path"), SCENARIOS, ids=[name for name, _, _ in SCENARIOS])
def test_secrets_never_appear_in_errors_or_logs(
    opcos: Opcos, gateway: HttpOpcoGateway, caplog: pytest.LogCaptureFixture, name: str, answer: Answer, path: str
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    opcos.on("POST", "/oauth2/token", token_answer(TOKEN), token_answer("token-S3CRET-second"))
    opcos.on("POST", path, answer)

    with pytest.raises(OpcoError) as failure:
        post_with_oauth(gateway)

    texts = [str(failure.value), *getattr(failure.value, "messages", []), *(r.getMessage() for r in caplog.records)]
    assert caplog.records, "the calls were logged"
    assert "***" in str(failure.value), "the OPCO's echo was kept, masked"
    for secret in SECRETS:
        assert all(secret not in text for text in texts), f"{name}: a secret leaked"
    assert failure.value.__cause__ is None


def test_the_key_in_key_infos_query_is_masked_in_the_log(
    opcos: Opcos, gateway: HttpOpcoGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    opcos.on("GET", "/ApiEchangeCFA/v2/cfakeyinfo", httpx.Response(200, json={"status": "success"}))

    gateway.key_info(endpoint(), "123456789")

    (line,) = [record.getMessage() for record in caplog.records if record.name == LOGGER]
    assert "siren=123456789" in line
    assert "XAPIKEY=%2A%2A%2A" in line
    assert API_KEY not in line
