"""The invoice's translation to the real wire (infrastructure/opco/opco_wire/invoice.py): the `facture` part has the
keys real clients send (a fixture written from ../shared/reference/opco-wire.md §5), our kinds become observed
`natureLigne` values, the date carries its Paris offset, amounts are exact decimals with two places."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from email.message import MIMEPart
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.lines import InvoiceLine
from infrastructure.opco.opco_wire.invoice import NATURE_LIGNE, OBSERVED_NATURES, Issuer, facture_part, multipart_files

OBSERVED = json.loads((Path(__file__).parents[1] / "fixtures" / "facture_observed.json").read_text("utf-8"))
CONTRACT = uuid4()
ISSUER = Issuer(siret="13002526500013", iban="FR7630006000011234567890189")


def _line(kind: InvoiceKind, amount: str, numero: int = 1, quantity: int | None = None) -> InvoiceLine:
    return InvoiceLine(
        contract_id=CONTRACT,
        numero_interne="N-1",
        numero_externe="EXT-42",
        numero_echeance=numero,
        codification=f"E{numero}",
        kind=kind,
        amount=Decimal(amount),
        quantity=quantity,
    )


def _facture(*lines: InvoiceLine, issued_on: date = date(2026, 9, 1)) -> dict[str, Any]:
    return facture_part(
        numero="F-2026-0007",
        issued_on=issued_on,
        issuer=ISSUER,
        lines=list(lines),
        numeros_deca={CONTRACT: "DECA-9"},
    )


def test_the_facture_part_has_exactly_the_observed_keys() -> None:
    facture = _facture(_line(InvoiceKind.PEDAGOGIE, "1000"), _line(InvoiceKind.RESTAURATION, "30", quantity=10))
    assert list(facture) == OBSERVED["facture"]
    assert all(list(ligne) == OBSERVED["ligne"] for ligne in facture["lignes"])


def test_every_kind_of_ours_becomes_an_observed_nature() -> None:
    assert set(NATURE_LIGNE) == set(InvoiceKind)
    assert set(NATURE_LIGNE.values()) <= OBSERVED_NATURES == set(OBSERVED["natureLigne"])
    assert NATURE_LIGNE[InvoiceKind.PREMIER_EQUIPEMENT] == "PREMIEREQUIPEMENT"
    assert NATURE_LIGNE[InvoiceKind.MOBILITE_INTERNATIONALE] == "MOBILITE"
    assert NATURE_LIGNE[InvoiceKind.MAJORATION_RQTH] == "MAJORATION_RQTH"


@pytest.mark.parametrize(
    ("issued_on", "written"),
    [(date(2026, 9, 1), "2026-09-01T00:00:00+02:00"), (date(2026, 12, 1), "2026-12-01T00:00:00+01:00")],
)
def test_the_date_of_issue_is_midnight_in_france_with_its_offset(issued_on: date, written: str) -> None:
    assert _facture(_line(InvoiceKind.PEDAGOGIE, "1"), issued_on=issued_on)["dateEmission"] == written


def test_amounts_are_exact_decimals_with_two_places_and_the_lines_carry_the_dossier() -> None:
    facture = _facture(_line(InvoiceKind.PEDAGOGIE, "1000.1", 2), _line(InvoiceKind.HEBERGEMENT, "12", 2, 2))
    assert facture["montantTotal"] == Decimal("1012.10")
    assert str(facture["montantTotal"]) == "1012.10"
    assert [str(ligne["montant"]) for ligne in facture["lignes"]] == ["1000.10", "12.00"]
    first = facture["lignes"][0]
    assert (first["numeroEcheance"], first["codificationEcheance"], first["numeroDeca"], first["numeroDossier"]) == (
        2,
        "E2",
        "DECA-9",
        "EXT-42",
    )
    assert [ligne["quantite"] for ligne in facture["lignes"]] == [1, 2]
    assert (facture["siretEmetteur"], facture["ibanEmetteur"]) == (ISSUER.siret, ISSUER.iban)


def test_the_multipart_body_holds_the_facture_json_and_the_pdf() -> None:
    facture = _facture(_line(InvoiceKind.PEDAGOGIE, "1000"))
    pdf = b"%PDF-1.7\n%test\n"
    request = httpx.Request("POST", "https://opco.test/v1/factures", files=multipart_files(facture, pdf, "F-7"))
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.read())
    parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
    assert set(parts) == {"facture", "fichier"}
    text = _content(parts["facture"]).decode()
    assert list(json.loads(text)) == OBSERVED["facture"]
    assert '"montantTotal":1000.00' in text
    assert parts["fichier"].get_filename() == "F-7.pdf"
    assert _content(parts["fichier"]).startswith(b"%PDF-")


def _content(part: MIMEPart) -> bytes:
    content = part.get_payload(decode=True)
    assert isinstance(content, bytes)
    return content
