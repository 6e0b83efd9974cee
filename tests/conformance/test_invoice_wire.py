"""The invoice as our client writes it (infrastructure/opco/opco_wire/invoice.py `facture_part`, `multipart_files`): its
`facture` part committed as a golden file and compared key by key with CerFacil's (opco-wire.md §5), then posted over
loopback to a strict fake SOR OPCO and to the sandbox, each of which takes it; and sent by the client itself
(`send_invoice`) to both, the sandbox finding it again by the CFA's number (`find_invoice`).

A deliberate change of the wire rewrites the golden file: `CONVERGENCE_REWRITE_GOLDEN=1 python3 dev.py test
tests/conformance`, then review the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import httpx
import pytest

from application.opco.opco_gateway import OpcoEndpoint, OutgoingInvoice
from domain.contracts.cerfa_document import parse_cerfa
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.lines import InvoiceLine
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client import ClientIdentity, HttpOpcoGateway
from infrastructure.opco.opco_sandbox import SandboxConfig
from infrastructure.opco.opco_wire import OBSERVED, dossier_body, encode
from infrastructure.opco.opco_wire.invoice import Issuer, facture_part, multipart_files
from tests.conformance.observed import mismatches, paths, structure
from tests.conformance.strict_opco import API, SOR_SCOPE, TOKEN_PATH, StrictOpco
from tests.integration.sandbox_server import (
    SANDBOX_OPERATOR,
    ManualClock,
    running_app,
    running_sandbox,
    sandbox_endpoint,
    sandbox_headers,
)

HERE: Final = Path(__file__).resolve().parent
GOLDEN: Final = HERE / "golden" / "facture-two-dossiers.json"
REWRITE: Final = os.environ.get("CONVERGENCE_REWRITE_GOLDEN") == "1"
CFA_SIRET = "79852413800012"
IBAN = "FR7630006000011234567890189"
API_KEY = "atlas-cfa-key-0123456789"
OAUTH_CLIENT = ("convergence-editeur", "atlas-client-secret-0123")
IDENTITY = ClientIdentity("Convergence", "convergence", "0.1.0")
FIRST, SECOND = UUID(int=1), UUID(int=2)  # the two contracts billed
NUMERO = "FAC-2026-0001"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # the sandbox's clock: E1 of both dossiers is open


def lines(numeros_externes: Sequence[str]) -> tuple[InvoiceLine, ...]:
    """Two échéance-1 lines on each of two dossiers: pédagogie and restauration, pédagogie and premier équipement."""
    first, second = numeros_externes
    return (
        InvoiceLine(FIRST, "CVG-1", first, 1, "E1", InvoiceKind.PEDAGOGIE, Decimal("2400.00")),
        InvoiceLine(FIRST, "CVG-1", first, 1, "E1", InvoiceKind.RESTAURATION, Decimal("50.00"), 20),
        InvoiceLine(SECOND, "CVG-2", second, 1, "E1", InvoiceKind.PEDAGOGIE, Decimal("1200.00")),
        InvoiceLine(SECOND, "CVG-2", second, 1, "E1", InvoiceKind.PREMIER_EQUIPEMENT, Decimal("300.00")),
    )


def outgoing(numeros_externes: Sequence[str], numeros_deca: Sequence[str]) -> OutgoingInvoice:
    return OutgoingInvoice(
        numero=NUMERO,
        issued_on=date(2026, 9, 30),
        issuer_siret=CFA_SIRET,
        iban=IBAN,
        lines=lines(numeros_externes),
        numeros_deca=dict(zip((FIRST, SECOND), numeros_deca, strict=True)),
        pdf=PDF,
    )


def the_facture(invoice: OutgoingInvoice) -> dict[str, Any]:
    return facture_part(
        numero=invoice.numero,
        issued_on=invoice.issued_on,
        issuer=Issuer(invoice.issuer_siret, invoice.iban),
        lines=invoice.lines,
        numeros_deca=invoice.numeros_deca,
    )


# --- the facture part -------------------------------------------------------------------------------------------

GOLDEN_INVOICE: Final = outgoing(("CA-0000001-1", "CA-0000002-1"), ("069202609NC0001", "069202609NC0002"))


def test_the_facture_part_is_the_golden_file() -> None:
    laid_out = encode(the_facture(GOLDEN_INVOICE), indent=2) + b"\n"
    if REWRITE:
        GOLDEN.write_bytes(laid_out)
    assert GOLDEN.exists(), "no golden file for the facture part: run with CONVERGENCE_REWRITE_GOLDEN=1 and review it"
    assert laid_out == GOLDEN.read_bytes()


def test_the_facture_part_has_exactly_cerfacils_keys_in_the_forms_seen() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"), parse_float=Decimal)
    assert paths(golden) == paths(structure("cerfacil-facture"))
    assert mismatches(golden, "cerfacil-facture", added=frozenset()) == []


# --- posted to a strict fake SOR OPCO and to the sandbox ---------------------------------------------------------


@dataclass
class Target:
    """An OPCO over loopback holding the two dossiers CVG-1 and CVG-2: where to post, with what, and their numbers."""

    client: httpx.Client
    invoice_url: str
    headers: dict[str, str]
    numeros_externes: tuple[str, str]
    numeros_deca: tuple[str, str]
    endpoint: OpcoEndpoint


@pytest.fixture
def strict_atlas(complete_cerfa: dict[str, Any]) -> Iterator[tuple[StrictOpco, Target]]:
    opco = StrictOpco(API_KEY, OAUTH_CLIENT)
    with running_app(opco.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        client_id, secret = OAUTH_CLIENT
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": SOR_SCOPE}
        token = client.post(TOKEN_PATH, data=form).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "X-API-KEY": API_KEY, **IDENTITY_HEADERS}
        externes = tuple(_strict_dossier(client, headers, complete_cerfa, numero) for numero in ("CVG-1", "CVG-2"))
        endpoint = OpcoEndpoint(
            opco=Opco.ATLAS,
            base_url=url + API,
            protocol=2,
            api_key=API_KEY,
            client_id=client_id,
            client_secret=secret,
            token_url=url + TOKEN_PATH,
            scope=SOR_SCOPE,
            invoice_path="/v1/Factures",
        )
        decas = ("069202609NC0001", "069202609NC0002")
        yield opco, Target(client, API + "/v1/Factures", headers, _pair(externes), decas, endpoint)


IDENTITY_HEADERS: Final = {"EDITEUR": IDENTITY.editeur, "LOGICIEL": IDENTITY.logiciel, "VERSION": IDENTITY.version}


def _strict_dossier(client: httpx.Client, headers: dict[str, str], cerfa: dict[str, Any], numero: str) -> str:
    body = encode(dossier_body(numero, parse_cerfa(cerfa), OBSERVED))
    sent = client.post(API + "/v1/dossiers", content=body, headers={**headers, "Content-Type": "application/json"})
    assert sent.status_code == 200, sent.text
    numero_externe: str = sent.json()["numeroExterne"]
    return numero_externe


@pytest.fixture
def sandbox_atlas(complete_cerfa: dict[str, Any]) -> Iterator[Target]:
    config = SandboxConfig(clock=ManualClock(START), instruction_delay=0, decision_delay=0)
    with running_sandbox(config) as url, httpx.Client(base_url=url, timeout=10) as client:
        headers = sandbox_headers(client, "ATLAS", CFA_SIRET)
        externes, decas = [], []
        for numero in ("CVG-1", "CVG-2"):
            body = encode(dossier_body(numero, parse_cerfa(complete_cerfa), OBSERVED))
            sent = client.post(
                "/opcos/ATLAS/v1/dossiers", content=body, headers={**headers, "Content-Type": "application/json"}
            )
            assert sent.status_code == 200, sent.text
            externes.append(sent.json()["numeroExterne"])
            read = client.get("/opcos/ATLAS/v1/dossiers", params={"numeroInterne": numero}, headers=headers)
            decas.append(read.json()["cerfa"]["numeroDeca"])
        endpoint = sandbox_endpoint(url, client, Opco.ATLAS, CFA_SIRET)
        yield Target(client, "/opcos/ATLAS/v1/Factures", headers, _pair(externes), _pair(decas), endpoint)


def _pair(values: Sequence[str]) -> tuple[str, str]:
    first, second = values
    return first, second


def post(target: Target) -> httpx.Response:
    invoice = outgoing(target.numeros_externes, target.numeros_deca)
    files = multipart_files(the_facture(invoice), invoice.pdf, invoice.numero)
    return target.client.post(target.invoice_url, files=files, headers=target.headers)


def test_the_strict_opco_takes_the_invoice_as_built(strict_atlas: tuple[StrictOpco, Target]) -> None:
    opco, target = strict_atlas

    answer = post(target)

    assert (answer.status_code, answer.json()) == (
        200,
        {"numeroInterneFacture": "F00000001", "numeroInterneDocument": "D00000001"},
    )
    received = opco.invoices[NUMERO]
    assert received["fichier"] == {"name": f"{NUMERO}.pdf", "size": len(PDF), "sha256": hashlib.sha256(PDF).hexdigest()}
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"), parse_float=Decimal)
    assert received["facture"] == golden  # the strict fake's dossiers are numbered as in the golden file


def test_the_sandbox_takes_the_invoice_as_built(sandbox_atlas: Target) -> None:
    answer = post(sandbox_atlas)

    assert (answer.status_code, answer.json()) == (
        200,
        {"numeroInterneFacture": "FAC-ATLAS-2026-000001", "numeroInterneDocument": "DOC-ATLAS-2026-000001"},
    )
    [stored] = sandbox_atlas.client.get("/_sandbox/factures", headers=SANDBOX_OPERATOR).json()
    assert stored["fichier"] == {"sha256": hashlib.sha256(PDF).hexdigest(), "taille": len(PDF), "nom": f"{NUMERO}.pdf"}
    assert [(d["numeroInterneDossier"], d["montant"]) for d in stored["dossiers"]] == [
        ("CVG-1", 2450.0),
        ("CVG-2", 1500.0),
    ]


def test_the_strict_opco_refuses_a_json_body_a_file_that_is_no_pdf_and_a_key_more(
    strict_atlas: tuple[StrictOpco, Target],
) -> None:
    opco, target = strict_atlas
    facture = the_facture(outgoing(target.numeros_externes, target.numeros_deca))
    as_json = {**target.headers, "Content-Type": "application/json"}

    answers = [
        target.client.post(target.invoice_url, content=encode(facture), headers=as_json),
        target.client.post(
            target.invoice_url, files=multipart_files(facture, b"PK\x03\x04", NUMERO), headers=target.headers
        ),
        target.client.post(
            target.invoice_url, files=multipart_files({**facture, "tva": 0}, PDF, NUMERO), headers=target.headers
        ),
    ]

    assert [answer.status_code for answer in answers] == [415, 400, 400]
    assert answers[1].json()["errors"] == [{"code": "FICHIER_INVALIDE", "description": "fichier n'est pas un PDF"}]
    assert answers[2].json()["errors"] == [
        {"code": "FORMAT_INVALIDE", "description": "tva: no real client sends this key"}
    ]
    assert opco.invoices == {}


def test_the_client_sends_the_invoice_to_the_strict_opco(strict_atlas: tuple[StrictOpco, Target]) -> None:
    opco, target = strict_atlas
    with HttpOpcoGateway(IDENTITY) as gateway:
        sent = gateway.send_invoice(target.endpoint, outgoing(target.numeros_externes, target.numeros_deca))

    assert (sent.numero_interne_facture, sent.numero_interne_document) == ("F00000001", "D00000001")
    assert list(opco.invoices) == [NUMERO]


def test_the_client_sends_the_invoice_to_the_sandbox_and_finds_it_by_the_cfas_number(sandbox_atlas: Target) -> None:
    target = sandbox_atlas
    with HttpOpcoGateway(IDENTITY) as gateway:
        sent = gateway.send_invoice(target.endpoint, outgoing(target.numeros_externes, target.numeros_deca))
        found = gateway.find_invoice(target.endpoint, NUMERO)
        unknown = gateway.find_invoice(target.endpoint, "FAC-2026-0404")

    assert (sent.numero_interne_facture, sent.numero_interne_document) == (
        "FAC-ATLAS-2026-000001",
        "DOC-ATLAS-2026-000001",
    )
    assert found is not None
    assert (found.numero_interne_facture, found.numero, found.numero_interne_document, found.etat) == (
        "FAC-ATLAS-2026-000001",
        NUMERO,
        "DOC-ATLAS-2026-000001",
        "TRANSMISE",
    )
    assert found.montant_facture == Decimal("3950.00")
    assert unknown is None
