"""The requests real CFA software sends to the real OPCOs, replayed against the sandbox over loopback: each is taken
as the real OPCO takes it.

The requests are written from the facts of ../shared/reference/opco-wire.md §4.1 and §8 and api-convergence.md §1-§4
(each fixture names its source), never from the clients' code: AKTO-PY (the AKTO "CFADock V2" reader), LGX-PHP (a
multi-OPCO PHP ERP), CERFACIL (a PHP ERP posting to five OPCOs) and PHP-TESTS (a school ERP's scripts, with the
portal's curl example)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from infrastructure.opco.opco_sandbox import SandboxConfig
from tests.integration.sandbox_server import ManualClock, running_sandbox, sandbox_headers

CFA_SIRET = "79852413800012"
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
PAGE_SIZE = 2
HELD = ("REAL-1", "REAL-2", "REAL-3", "REAL-4", "REAL-5")  # each OPCO of the replay holds these dossiers
OPCOS = ("AKTO", "ATLAS", "MOBILITES", "CONSTRUCTYS", "OPCOEP", "AFDAS")
# AKTO-PY sends identity headers with non-ASCII values (opco-wire.md §8), encoded as Python's HTTP libraries do
NON_ASCII_EDITEUR = "Intégrale Academy".encode("latin-1")


@dataclass
class Sandbox:
    client: httpx.Client
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)  # per OPCO: identity, CFA key, Bearer
    asked: list[httpx.Request] = field(default_factory=list)

    def send(self, opco: str, method: str, path: str, **request: Any) -> httpx.Response:
        """`path` as the client writes it after the OPCO's base URL (`…/SorApiEchangeCFA/v1/…`, opco-wire.md §4.1)."""
        headers = {**self.headers[opco], **request.pop("headers", {})}
        response = self.client.request(method, f"/opcos/{opco}{path}", headers=headers, **request)
        self.asked.append(response.request)
        return response


@pytest.fixture
def sandbox(complete_cerfa: dict[str, Any]) -> Iterator[Sandbox]:
    config = SandboxConfig(clock=ManualClock(START), instruction_delay=0, decision_delay=0, page_size=PAGE_SIZE)
    with running_sandbox(config) as url, httpx.Client(base_url=url, timeout=10) as client:
        replay = Sandbox(client)
        for opco in OPCOS:
            replay.headers[opco] = sandbox_headers(client, opco, CFA_SIRET)
            for numero in HELD:  # the setup, in the sandbox's own terms: not a replayed request
                body = {"cerfa": {**complete_cerfa, "numeroInterne": numero}}
                assert client.post(f"/opcos/{opco}/v1/dossiers", json=body, headers=replay.headers[opco]).is_success
        yield replay


# --- paging: AKTO-PY and LGX-PHP read every état without looping --------------------------------------------


def read_all_pages(sandbox: Sandbox, opco: str, path: str, list_key: str) -> list[dict[str, Any]]:
    """AKTO-PY's reading as opco-wire.md §8 and api-convergence.md §1 describe it: numeroPage=1, 2, … of the v2
    envelope `{total, count, page, <list>}` (also wrapped in a one-element list), stopping when `total` items are
    read, on an empty page or on a page that repeats one already read."""
    collected: list[dict[str, Any]] = []
    pages: list[Any] = []
    for page in range(1, 1000):
        answer = sandbox.send(opco, "GET", path, params={"numeroPage": page}, headers={"EDITEUR": NON_ASCII_EDITEUR})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        envelope = body[0] if isinstance(body, list) and len(body) == 1 else body
        assert isinstance(envelope, dict), f"page {page} of {path} is no envelope: {body!r}"
        items = envelope[list_key]
        if not items or items in pages:
            break
        pages.append(items)
        collected += items
        if len(collected) >= envelope["total"]:
            break
    return collected


def test_akto_py_reads_every_dossier_state_of_a_v2_opco(sandbox: Sandbox) -> None:
    """AKTO-PY `GET /v2/dossiers/etats?numeroPage=` (api-convergence.md §1, §3.1; opco-wire.md §3, §8)."""
    states = read_all_pages(sandbox, "AKTO", "/v2/dossiers/etats", "EtatDossierResult")

    assert sorted(state["numeroInterne"] for state in states) == list(HELD)
    assert {state["etat"] for state in states} == {"ENGAGE"}
    assert all({"numeroInterne", "numeroExterne", "numeroDeca", "etat"} <= set(state) for state in states)
    assert len(sandbox.asked) == math.ceil(len(HELD) / PAGE_SIZE)  # to the total, not a request more


def test_akto_py_reads_every_invoice_state(sandbox: Sandbox) -> None:
    """AKTO-PY `GET /v2/factures/etats?numeroPage=`, list key `factures` (api-convergence.md §1, §3.2)."""
    for n in range(1, 4):
        assert sandbox.send("AKTO", "POST", "/v1/Factures", **cerfacil_invoice("AKTO", f"FAC-{n}", n)).is_success
    sandbox.asked.clear()

    states = read_all_pages(sandbox, "AKTO", "/v2/factures/etats", "factures")

    assert [state["numero"] for state in states] == ["FAC-1", "FAC-2", "FAC-3"]
    assert all(state["numeroInterneFacture"].startswith("FAC-AKTO-") for state in states)
    assert all({"etatFacture", "montantFacture", "dossiers"} <= set(state) for state in states)
    assert len(sandbox.asked) == 2


def test_lgx_php_reads_the_states_of_a_v1_opco_as_a_bare_array(sandbox: Sandbox) -> None:
    """LGX-PHP `GET /v1/dossiers/etats`, read as a bare array of état items (opco-wire.md §8)."""
    answer = sandbox.send("CONSTRUCTYS", "GET", "/v1/dossiers/etats")

    assert answer.status_code == 200
    states = answer.json()
    assert isinstance(states, list)
    assert [state["numeroInterne"] for state in states] == list(HELD)
    assert all(state["etat"] == "ENGAGE" and state["numeroExterne"] for state in states)


# --- single requests, each taken as the real OPCO takes it ---------------------------------------------------


@dataclass(frozen=True)
class RealRequest:
    client: str
    source: str  # where the fact is written
    opco: str
    method: str
    path: str  # after the OPCO's base URL
    taken: Callable[[httpx.Response], None]  # how the real OPCO answers it
    params: dict[str, str] = field(default_factory=dict)
    invoice: bool = False  # POSTs CerFacil's multipart invoice (`cerfacil_invoice`)


def ok_json(kind: type) -> Callable[[httpx.Response], None]:
    def taken(answer: httpx.Response) -> None:
        assert answer.status_code == 200, answer.text
        assert isinstance(answer.json(), kind)

    return taken


def the_dossier(answer: httpx.Response) -> None:
    assert answer.status_code == 200, answer.text
    dossier = answer.json()
    assert dossier["cerfa"]["numeroInterne"] == "REAL-1"
    assert {"engagement", "echeances", "detailsFacturation", "engagementsFraisAnnexe"} <= set(dossier)
    assert {item["natureFrais"] for item in dossier["engagementsFraisAnnexe"]} >= {"Premierequipement"}


def listed(answer: httpx.Response) -> None:
    assert answer.status_code == 200, answer.text
    assert [dossier["cerfa"]["numeroInterne"] for dossier in answer.json()] == ["REAL-2"]


def an_invoice_taken(answer: httpx.Response) -> None:
    """200 with the OPCO's numbers of the invoice and of its document (opco-wire.md §5, §8)."""
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"numeroInterneFacture", "numeroInterneDocument"}


def the_invoice(answer: httpx.Response) -> None:
    assert answer.status_code == 200, answer.text
    assert answer.json()["numero"] == "FAC-PATH"


def opco_error(status: int, shape: str) -> Callable[[httpx.Response], None]:
    """errors[{code, description}] (api-convergence.md §2; opco-wire.md §4.2, §5), or OPCO EP's `comment`."""

    def taken(answer: httpx.Response) -> None:
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert "detail" not in body  # not a framework's error
        if shape == "comment":
            assert isinstance(body["comment"], str)
            assert body["comment"]
        else:
            assert all({"code", "description"} <= set(error) for error in body["errors"])
            assert body["errors"]

    return taken


def cerfacil_invoice(opco: str, numero: str = "FAC-PATH", dossier: int = 1) -> dict[str, Any]:
    """CerFacil `sendFacture` (opco-wire.md §5): multipart, the `facture` JSON as a form field, the PDF in `fichier`
    named after the invoice number; its lines name the dossier by the OPCO's numeroExterne."""
    line = {
        "montant": 50.0,
        "natureLigne": "PEDAGOGIE",
        "quantite": 1,
        "numeroEcheance": 1,
        "codificationEcheance": "E1",
        "numeroDeca": None,
        "numeroDossier": f"{opco}-2026-{dossier:06d}",
    }
    facture = {
        "montantTotal": 50.0,
        "numero": numero,
        "dateEmission": "2026-09-01T00:00:00+02:00",  # a date with a time and an offset (opco-wire.md §8)
        "ibanEmetteur": "FR7630006000011234567890189",
        "siretEmetteur": CFA_SIRET,
        "estCertificatRealisation": False,
        "lignes": [line],
    }
    pdf = b"%PDF-1.4\n%%EOF\n"
    return {"data": {"facture": json.dumps(facture)}, "files": {"fichier": (f"{numero}.pdf", pdf, "application/pdf")}}


REAL_REQUESTS = [
    RealRequest("AKTO-PY", "api-convergence.md §1, §3.1", "AKTO", "GET", "/v2/dossiers", the_dossier,
                {"numeroInterne": "REAL-1"}),
    RealRequest("LGX-PHP", "api-convergence.md §1", "CONSTRUCTYS", "GET", "/v1/dossiers", the_dossier,
                {"numeroInterne": "REAL-1"}),
    RealRequest("LGX-PHP", "api-convergence.md §4 (OPCO EP answers 400 for an unknown numeroInterne)", "OPCOEP",
                "GET", "/v1/dossiers", opco_error(400, "comment"), {"numeroInterne": "UNKNOWN"}),
    RealRequest("PHP-TESTS", "api-convergence.md §1 (portal curl example); opco-wire.md §8", "ATLAS", "GET",
                "/v1/dossiers/liste", listed, {"numerosInternes": "REAL-2"}),
    RealRequest("PHP-TESTS", "api-convergence.md §1", "ATLAS", "GET", "/v1/status", ok_json(dict)),
    RealRequest("CERFACIL", "opco-wire.md §4.1, §8 (Factures on SOR hosts)", "AKTO", "POST", "/v1/Factures",
                an_invoice_taken, invoice=True),
    RealRequest("CERFACIL", "opco-wire.md §4.1, §8 (Factures on SOR hosts)", "ATLAS", "POST", "/v1/Factures",
                an_invoice_taken, invoice=True),
    RealRequest("CERFACIL", "opco-wire.md §4.1, §8 (Factures on SOR hosts)", "MOBILITES", "POST", "/v1/Factures",
                an_invoice_taken, invoice=True),
    RealRequest("CERFACIL", "opco-wire.md §4.1, §8 (factures at AFDAS and EP)", "AFDAS", "POST", "/v1/factures",
                an_invoice_taken, invoice=True),
    RealRequest("CERFACIL", "opco-wire.md §4.1, §8 (factures at AFDAS and EP)", "OPCOEP", "POST", "/v1/factures",
                an_invoice_taken, invoice=True),
    RealRequest("any client", "opco-wire.md §8 (an unknown path answers in the OPCO error format)", "ATLAS", "GET",
                "/v1/dossiers/inconnus", opco_error(404, "errors")),
    RealRequest("any client", "opco-wire.md §8", "OPCOEP", "GET", "/v1/inconnu", opco_error(404, "comment")),
    RealRequest("any client", "opco-wire.md §8 (a wrong method)", "AKTO", "DELETE", "/v2/dossiers/etats",
                opco_error(405, "errors")),
]  # fmt: skip


@pytest.mark.parametrize(
    "request_", REAL_REQUESTS, ids=[f"{r.client} {r.method} {r.opco}{r.path}" for r in REAL_REQUESTS]
)
def test_a_real_clients_request_is_taken_as_the_real_opco_takes_it(sandbox: Sandbox, request_: RealRequest) -> None:
    body = cerfacil_invoice(request_.opco) if request_.invoice else {}
    answer = sandbox.send(request_.opco, request_.method, request_.path, params=request_.params, **body)

    request_.taken(answer)


@pytest.mark.parametrize(("opco", "posted", "read"), [("AKTO", "/v1/Factures", "/v1/factures"),
                                                      ("AFDAS", "/v1/factures", "/v1/Factures")])  # fmt: skip
def test_both_spellings_of_factures_are_one_resource(sandbox: Sandbox, opco: str, posted: str, read: str) -> None:
    """A client posting at `Factures` and reading at `factures` (or the reverse) meets one invoice."""
    assert sandbox.send(opco, "POST", posted, **cerfacil_invoice(opco)).is_success

    the_invoice(sandbox.send(opco, "GET", read, params={"numero": "FAC-PATH"}))
