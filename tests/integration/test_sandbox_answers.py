"""The sandbox answers as the real OPCOs do (opco-wire.md §8): datetimes with offsets wherever a date comes in,
`/v1/Factures` and `/v1/factures`, v1 states as a bare array and v2 as the envelope, `/v1/dossiers/liste`, and the
OPCO's error format for an unknown path or a wrong method."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from domain.opco.opcos import Opco
from infrastructure.opco.opco_client import ClientIdentity, HttpOpcoGateway
from infrastructure.opco.opco_sandbox import SandboxConfig
from infrastructure.opco.opco_wire.invoice import multipart_files
from tests.integration.sandbox_server import ManualClock, running_sandbox, sandbox_endpoint, sandbox_headers
from tests.support import with_changes

CFA_SIRET = "79852413800012"
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def config() -> SandboxConfig:
    return SandboxConfig(clock=ManualClock(START), instruction_delay=0, decision_delay=0, page_size=2)


@pytest.fixture
def sandbox(config: SandboxConfig) -> Iterator[httpx.Client]:
    with running_sandbox(config) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def send(
    client: httpx.Client, headers: dict[str, str], cerfa: dict[str, Any], numero: str, opco: str = "ATLAS"
) -> None:
    sent = client.post(
        f"/opcos/{opco}/v1/dossiers", json={"cerfa": {**cerfa, "numeroInterne": numero}}, headers=headers
    )
    assert sent.is_success, sent.text


def test_datetimes_with_offsets_are_read_as_days_in_paris(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    headers = sandbox_headers(sandbox, "ATLAS", CFA_SIRET)
    dated = with_changes(
        complete_cerfa,
        apprenti={"dateNaissance": "2007-05-14T00:00:00+02:00"},
        contrat={
            "dateConclusion": "2026-07-10T00:00:00+0200",
            "dateDebutContrat": "2026-08-31T22:00:00Z",  # midnight in Paris: 1 September
            "dateFinContrat": "2028-08-31T00:00:00+02:00",
        },
    )

    send(sandbox, headers, dated, "OFFSET-1")
    dossier = sandbox.get("/opcos/ATLAS/v2/dossiers", params={"numeroInterne": "OFFSET-1"}, headers=headers).json()

    assert dossier["cerfa"]["etat"] == "ENGAGE"
    assert dossier["cerfa"]["numeroDeca"][3:9] == "202609"  # the start's year and month
    assert dossier["echeances"][0]["dateDebut"] == "2026-09-01"
    assert dossier["echeances"][-1]["dateFin"] == "2028-08-31"


def test_an_invoice_dated_with_an_offset_is_taken_at_factures_with_either_case(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    headers = sandbox_headers(sandbox, "ATLAS", CFA_SIRET)
    send(sandbox, headers, complete_cerfa, "CVG-1")
    line = {
        "montant": 100.00,
        "natureLigne": "PEDAGOGIE",
        "quantite": 1,
        "numeroEcheance": 1,
        "codificationEcheance": "E1",
        "numeroDeca": None,
        "numeroDossier": "ATLAS-2026-000001",
    }
    facture = {
        "montantTotal": 100.00,
        "numero": "FAC-OFFSET-1",
        "dateEmission": "2026-09-01T10:00:00+02:00",
        "ibanEmetteur": "FR7630006000011234567890189",
        "siretEmetteur": CFA_SIRET,
        "estCertificatRealisation": False,
        "lignes": [line],
    }
    files = multipart_files(facture, b"%PDF-1.4\n%%EOF\n", "FAC-OFFSET-1")

    posted = sandbox.post("/opcos/ATLAS/v1/Factures", files=files, headers=headers)

    assert posted.status_code == 200, posted.text
    for path in ("/opcos/ATLAS/v1/Factures", "/opcos/ATLAS/v1/factures"):
        found = sandbox.get(path, params={"numero": "FAC-OFFSET-1"}, headers=headers)
        assert (found.status_code, found.json()["numeroInterneFacture"]) == (200, posted.json()["numeroInterneFacture"])
    again = sandbox.post("/opcos/ATLAS/v1/factures", files=files, headers=headers)
    assert again.status_code == 409  # one resource under both spellings


def test_v1_states_are_a_bare_array_and_v2_states_the_envelope(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    headers = sandbox_headers(sandbox, "ATLAS", CFA_SIRET)
    for numero in ("S-1", "S-2", "S-3"):
        send(sandbox, headers, complete_cerfa, numero)

    def states(version: str, **query: int) -> Any:
        answer = sandbox.get(f"/opcos/ATLAS/{version}/dossiers/etats", params=query, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert [item["numeroInterne"] for item in states("v1")] == ["S-1", "S-2", "S-3"]  # all of them, unpaged
    assert [item["numeroInterne"] for item in states("v1", numeroPage=2)] == ["S-3"]
    assert states("v1", numeroPage=3) == []
    envelope = states("v2", numeroPage=1)
    assert (envelope["total"], envelope["count"], envelope["page"]) == (3, 2, 1)
    assert [item["numeroInterne"] for item in envelope["EtatDossierResult"]] == ["S-1", "S-2"]
    assert set(envelope["EtatDossierResult"][0]) == {"numeroInterne", "numeroExterne", "numeroDeca", "etat",
                                                     "commentaireEtat"}  # fmt: skip


def test_our_client_reads_the_v1_bare_arrays_page_by_page(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    headers = sandbox_headers(sandbox, "ATLAS", CFA_SIRET)
    for numero in ("S-1", "S-2", "S-3"):
        send(sandbox, headers, complete_cerfa, numero)
    asked: list[str] = []

    class Counting(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/dossiers/etats"):  # not the token's request
                asked.append(request.url.params["numeroPage"])
            return super().handle_request(request)

    base = str(sandbox.base_url).rstrip("/")
    endpoint = replace(sandbox_endpoint(base, sandbox, Opco.ATLAS, CFA_SIRET), protocol=1)
    identity = ClientIdentity("Convergence", "convergence", "0.1.0")
    with HttpOpcoGateway(identity, transport=Counting()) as gateway:
        states = list(gateway.dossier_states(endpoint))

    assert [state.numero_interne for state in states] == ["S-1", "S-2", "S-3"]
    assert asked == ["1", "2", "3"]  # pages of 2 without a total: the empty third page ends it


def test_dossiers_liste_answers_the_dossiers_asked_for(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    headers = sandbox_headers(sandbox, "ATLAS", CFA_SIRET)
    for numero in ("L-1", "L-2"):
        send(sandbox, headers, complete_cerfa, numero)

    def liste(query: Any) -> httpx.Response:
        return sandbox.get("/opcos/ATLAS/v1/dossiers/liste", params=query, headers=headers)

    by_commas = liste({"numerosInternes": "L-2,UNKNOWN,L-1"}).json()
    assert [dossier["cerfa"]["numeroInterne"] for dossier in by_commas] == ["L-2", "L-1"]
    assert by_commas[1]["cerfa"]["etat"] == "ENGAGE"
    assert set(by_commas[1]) >= {"cerfa", "engagement", "echeances", "detailsFacturation", "engagementsFraisAnnexe"}
    repeated = liste([("numerosInternes", "L-1"), ("numerosInternes", "L-2")]).json()
    assert [dossier["cerfa"]["numeroInterne"] for dossier in repeated] == ["L-1", "L-2"]
    missing = liste({})
    assert (missing.status_code, missing.json()["errors"][0]["code"]) == (400, "PARAMETRE_MANQUANT")


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/opcos/ATLAS/v1/nowhere", 404, "RESSOURCE_INCONNUE"),
        ("GET", "/opcos/ATLAS/v1/dossiers/etats/extra", 404, "RESSOURCE_INCONNUE"),
        ("DELETE", "/opcos/ATLAS/v1/dossiers", 405, "METHODE_NON_AUTORISEE"),
        ("PUT", "/opcos/ATLAS/v1/factures", 405, "METHODE_NON_AUTORISEE"),
        ("GET", "/nowhere", 404, "RESSOURCE_INCONNUE"),
    ],
)
def test_an_unknown_path_or_a_wrong_method_answers_in_the_opco_error_format(
    sandbox: httpx.Client, method: str, path: str, status: int, code: str
) -> None:
    answer = sandbox.request(method, path)

    assert answer.status_code == status
    assert answer.json() == {"errors": [{"code": code, "description": answer.json()["errors"][0]["description"]}]}
    assert path in answer.json()["errors"][0]["description"]
    if status == 405:
        assert "GET" in answer.headers["Allow"] or "POST" in answer.headers["Allow"]


def test_opco_ep_answers_an_unknown_path_with_its_comment(sandbox: httpx.Client) -> None:
    answer = sandbox.get("/opcos/OPCOEP/v1/nowhere")

    assert answer.status_code == 404
    assert answer.json() == {"comment": "Ressource inconnue : GET /opcos/OPCOEP/v1/nowhere"}
