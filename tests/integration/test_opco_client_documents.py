"""The httpx client's document calls against the reference sandbox over loopback: conventions, documents and
certificats as multipart, the sandbox's strict checks of their parts, and how failures are classified."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from application.opco.opco_gateway import (
    NotSupported,
    OpcoEndpoint,
    OutgoingCertificat,
    OutgoingConvention,
    OutgoingDocument,
    OutgoingFile,
    RefusedByOpco,
    TransientOpcoError,
)
from domain.cerfa import Cerfa
from domain.contracts.cerfa_document import parse_cerfa
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client import ClientIdentity, HttpOpcoGateway
from infrastructure.opco.opco_sandbox import SandboxConfig
from tests.integration.sandbox_server import SANDBOX_OPERATOR, ManualClock, running_sandbox, sandbox_endpoint

CFA_SIRET = "79852413800012"
IDENTITY = ClientIdentity(editeur="Convergence", logiciel="convergence", version="0.1.0")
PDF = OutgoingFile(b"%PDF-1.4\n% signed\n%%EOF\n", "application/pdf", "convention.pdf")
NO_FAULTS = {"errorRate": 0.0, "rateLimitRate": 0.0, "timeoutRate": 0.0, "resetRate": 0.0}


@dataclass
class Sandbox:
    url: str
    admin: httpx.Client

    def endpoint(self, opco: Opco) -> OpcoEndpoint:
        return sandbox_endpoint(self.url, self.admin, opco, CFA_SIRET)

    def documents(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.admin.get("/_sandbox/documents", headers=SANDBOX_OPERATOR).json()
        return answer

    def faults(self, **faults: Any) -> None:
        changes = {**NO_FAULTS, **faults}
        assert self.admin.put("/_sandbox/faults", json=changes, headers=SANDBOX_OPERATOR).status_code == 200


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(clock=ManualClock(datetime(2026, 9, 1, 8, 0, tzinfo=UTC)), instruction_delay=0)
    with running_sandbox(config) as url, httpx.Client(base_url=url, timeout=10) as admin:
        yield Sandbox(url, admin)


@pytest.fixture
def gateway() -> Iterator[HttpOpcoGateway]:
    with HttpOpcoGateway(IDENTITY, timeout=httpx.Timeout(connect=5.0, read=2.0, write=5.0, pool=5.0)) as client:
        yield client


@pytest.fixture
def cerfa(complete_cerfa: dict[str, Any]) -> Cerfa:
    return parse_cerfa(complete_cerfa)


def at(sandbox: Sandbox, gateway: HttpOpcoGateway, opco: Opco, cerfa: Cerfa) -> OpcoEndpoint:
    endpoint = sandbox.endpoint(opco)
    gateway.send_contract(endpoint, "CVG-1", cerfa)
    return endpoint


def test_a_convention_is_two_parts_the_sandbox_keeps_once(
    sandbox: Sandbox, gateway: HttpOpcoGateway, cerfa: Cerfa
) -> None:
    endpoint = at(sandbox, gateway, Opco.ATLAS, cerfa)
    convention = OutgoingConvention("CVG-1", cerfa, True, PDF)
    sent = gateway.send_convention(endpoint, convention)
    again = gateway.send_convention(endpoint, convention)
    assert sent.identifiers == again.identifiers == {"numeroInterneDocument": "DOC-ATLAS-000001"}
    [item] = sandbox.documents()
    assert (item["route"], item["receipts"], item["mediaType"], item["fileName"]) == (
        "conventions",
        2,
        "application/pdf",
        "convention.pdf",
    )
    payload = item["payload"]
    assert payload["numeroInterneDossier"] == "CVG-1"
    assert payload["mandatEmployeur"] is True
    assert set(payload["formation"]) >= {"dateDebutFormation", "dateFinFormation", "dureeFormation"}


def test_a_certificat_goes_to_v1_documents_at_atlas_and_v2_certificats_at_afdas(
    sandbox: Sandbox, gateway: HttpOpcoGateway, cerfa: Cerfa
) -> None:
    atlas = at(sandbox, gateway, Opco.ATLAS, cerfa)
    document = OutgoingDocument("CERTIFICAT_REALISATION", (("DOSSIER_APPRENTISSAGE", "CVG-1"),), PDF)
    assert gateway.send_document(atlas, document).identifiers
    afdas = at(sandbox, gateway, Opco.AFDAS, cerfa)
    certificat = OutgoingCertificat("CVG-1", None, "Intermediaire", {"numero": 1, "codification": "E1"}, cerfa, PDF)
    assert gateway.send_certificat(afdas, certificat).identifiers
    assert [(d["opco"], d["route"]) for d in sandbox.documents()] == [("ATLAS", "documents"), ("AFDAS", "certificats")]
    with pytest.raises(NotSupported):
        gateway.send_certificat(atlas, certificat)
    with pytest.raises(NotSupported):
        gateway.send_document(afdas, document)


def test_the_objects_named_must_be_known_at_the_opco(sandbox: Sandbox, gateway: HttpOpcoGateway, cerfa: Cerfa) -> None:
    endpoint = at(sandbox, gateway, Opco.AKTO, cerfa)
    document = OutgoingDocument("CERTIFICAT_REALISATION", (("FACTURE", "F-404"), ("DOSSIER_APPRENTISSAGE", "X")), PDF)
    with pytest.raises(RefusedByOpco) as refused:
        gateway.send_document(endpoint, document)
    assert refused.value.status == 422
    assert "infosFichier.objets.0.idObjet" in str(refused.value)
    assert "infosFichier.objets.1.idObjet" in str(refused.value)


def raw_post(sandbox: Sandbox, endpoint: OpcoEndpoint, path: str, files: dict[str, Any]) -> httpx.Response:
    headers = {"X-API-KEY": endpoint.api_key, "EDITEUR": "Test", "LOGICIEL": "test", "VERSION": "1"}
    return httpx.post(f"{endpoint.base_url}{path}", files=files, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ({"convention": (None, b'{"numeroInterneDossier": "CVG-1", "inconnu": 1}')}, "convention.inconnu"),
        ({"convention": (None, b"pas du JSON")}, "convention"),
        ({}, "convention"),
        ({"fichier": ("f.gif", b"GIF89a", "image/gif")}, "fichier"),
    ],
)
def test_the_sandbox_checks_the_parts_strictly(
    sandbox: Sandbox, gateway: HttpOpcoGateway, cerfa: Cerfa, parts: dict[str, Any], field: str
) -> None:
    endpoint = at(sandbox, gateway, Opco.CONSTRUCTYS, cerfa)  # key only: no token to fetch by hand
    valid = {"convention": (None, json.dumps({"numeroInterneDossier": "CVG-1"}).encode()), "fichier": PDF_PART}
    answer = raw_post(sandbox, endpoint, "/v1/conventions", {**valid, **parts} if parts else {"fichier": PDF_PART})
    assert answer.status_code == 422, answer.text
    assert field in {error.get("champ") for error in answer.json()["errors"]}


PDF_PART = ("c.pdf", PDF.content, "application/pdf")


def test_a_5xx_did_not_keep_it_a_broken_exchange_may_have(
    sandbox: Sandbox, gateway: HttpOpcoGateway, cerfa: Cerfa
) -> None:
    endpoint = at(sandbox, gateway, Opco.ATLAS, cerfa)
    convention = OutgoingConvention("CVG-1", cerfa, None, PDF)
    sandbox.faults(errorRate=1.0, afterStoreShare=1.0, seed=1)
    with pytest.raises(TransientOpcoError) as server_error:
        gateway.send_convention(endpoint, convention)
    assert not server_error.value.may_have_reached
    assert sandbox.documents() == []  # a 5xx to a document is never after the store
    sandbox.faults(resetRate=1.0, afterStoreShare=1.0, seed=1)
    with pytest.raises(TransientOpcoError) as broken:
        gateway.send_convention(endpoint, convention)
    assert broken.value.may_have_reached
    assert [d["receipts"] for d in sandbox.documents()] == [1]
