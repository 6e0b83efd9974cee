"""The invoice PDF: every figure of its input read back from the file, the same bytes for the same input, and the
input assembled from an invoice, its contracts and the CFA's billing details."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from pypdf import PdfReader

from application.invoices.billing_profiles import BillingProfiles
from application.invoices.invoice_document import (
    VAT_EXEMPTION,
    DocumentLine,
    DossierSection,
    InvoiceDocument,
    Issuer,
    invoice_document,
)
from application.invoices.invoices import Invoices
from domain.opco.opco_catalogue import CATALOGUE
from infrastructure.documents.invoice_pdf import french_money, render_invoice_pdf
from tests.invoicing import CFA, accepted_contract, line
from tests.support import dossiers, principal
from tests.unit.fakes import PlainBox

ISSUER = Issuer(
    name="CFA des Métiers de l'Artisanat d'Île-de-France",
    address_lines=("12 rue de l'École", "75011 Paris"),
    siret=CFA,
    uai="0751234A",
    declaration_number="11 75 12345 75",
    iban="FR76 3000 6000 0112 3456 7890 189",
    bic="AGRIFRPPXXX",
)
PEDAGOGIE = "Coût de la formation (niveau de prise en charge)"
DOCUMENT = InvoiceDocument(
    issuer=ISSUER,
    opco_name="OPCO EP (entreprises de proximité)",
    number="FAC-2026-000042",
    issued_on=date(2026, 11, 30),
    due_on=date(2026, 12, 30),
    sections=(
        DossierSection(
            "Léa Dupré",
            "Boulangerie Ménard SARL",
            "02420241200012",
            "OPCOEP-2026-99",
            (
                DocumentLine(PEDAGOGIE, 1, "E1", None, Decimal("3200.00")),
                DocumentLine("Frais de restauration (repas)", 1, "E1", 40, Decimal("120.00")),
            ),
        ),
        DossierSection(
            "Noé Garçon", "Coiffure Étoile", None, None, (DocumentLine(PEDAGOGIE, 2, "E2", None, Decimal("2400.50")),)
        ),
    ),
    total=Decimal("5720.50"),
)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_french_money() -> None:
    assert [french_money(Decimal(v)) for v in ("0.00", "120.00", "3200.00", "1234567.89", "-5.10")] == [
        "0,00 €",
        "120,00 €",
        "3 200,00 €",
        "1 234 567,89 €",
        "-5,10 €",
    ]


def test_every_figure_of_the_invoice_reads_back_from_the_pdf() -> None:
    pdf = render_invoice_pdf(DOCUMENT)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    lines = text.splitlines()
    for expected in (
        ISSUER.name,
        *ISSUER.address_lines,
        f"SIRET : {ISSUER.siret}",
        f"UAI : {ISSUER.uai}",
        f"Déclaration d'activité n° {ISSUER.declaration_number}",
        DOCUMENT.opco_name,
        "FACTURE N° FAC-2026-000042",
        "Date : 30/11/2026",
        "Apprenti : Léa Dupré",
        "Employeur : Boulangerie Ménard SARL",
        "Apprenti : Noé Garçon",
        "Employeur : Coiffure Étoile",
        f"{PEDAGOGIE} 1 E1 3 200,00 €",
        "Frais de restauration (repas) 1 E1 40 120,00 €",
        f"{PEDAGOGIE} 2 E2 2 400,50 €",
        "Sous-total du contrat 3 320,00 €",
        "Sous-total du contrat 2 400,50 €",
        "Total HT 5 720,50 €",
        "TVA 0,00 €",
        "Total TTC à payer 5 720,50 €",
        VAT_EXEMPTION,
        f"IBAN : {ISSUER.iban}",
        f"BIC : {ISSUER.bic}",
    ):
        assert expected in lines, expected
    assert re.search(r"N° DECA : 02420241200012\s+N° dossier OPCO : OPCOEP-2026-99", text)
    assert "au plus tard le 30/12/2026" in text


def test_the_same_invoice_gives_the_same_bytes() -> None:
    assert render_invoice_pdf(DOCUMENT) == render_invoice_pdf(DOCUMENT)
    assert b"Helvetica" in render_invoice_pdf(DOCUMENT)


@dataclass(frozen=True)
class Billing:
    legal_name: str = ISSUER.name
    address_lines: tuple[str, ...] = ISSUER.address_lines
    uai: str = ISSUER.uai
    declaration_number: str = ISSUER.declaration_number
    iban: str = ISSUER.iban
    bic: str = ISSUER.bic


def test_the_document_of_an_invoice_names_its_contracts_and_the_cfa(complete_cerfa: dict[str, Any]) -> None:
    app = dossiers(today=date(2026, 11, 27))
    who = principal(CFA)
    contract = accepted_contract(app, who, complete_cerfa)
    invoices = Invoices(app, CATALOGUE, app.clock, BillingProfiles(app, PlainBox()))
    invoice = invoices.create(
        who, numero_interne_facture="F-7", invoice_date=date(2026, 11, 27), lines=[line(contract.id, 1, "1200.00")]
    ).invoice
    contract = app.contract(who, contract.id)
    document = invoice_document(invoice, {contract.id: contract}, Billing())
    cerfa = contract.cerfa_model
    assert cerfa.apprenti is not None
    assert cerfa.employeur is not None
    assert document.issuer == ISSUER
    assert (document.opco_name, document.number, document.issued_on, document.due_on, document.total) == (
        "OPCO ATLAS",
        "F-7",
        date(2026, 11, 27),
        date(2026, 12, 27),
        Decimal("1200.00"),
    )
    [section] = document.sections
    assert section.apprentice == f"{cerfa.apprenti.prenom} {cerfa.apprenti.nomUsage or cerfa.apprenti.nom}"
    assert section.employer == cerfa.employeur.denomination
    assert (section.numero_deca, section.numero_dossier) == (contract.numero_deca, "EXT-C-1")
    assert section.lines == (DocumentLine(PEDAGOGIE, 1, "E1", None, Decimal("1200.00")),)
    assert "1 200,00 €" in text_of(render_invoice_pdf(document))


def test_a_long_invoice_keeps_each_apprentice_with_its_lines_and_numbers_its_pages() -> None:
    line = DocumentLine(PEDAGOGIE, 1, "E1", None, Decimal("1000.00"))
    sections = tuple(DossierSection(f"Apprenti {i}", "Employeur", f"DECA{i}", f"D{i}", (line, line)) for i in range(12))
    pdf = render_invoice_pdf(replace(DOCUMENT, sections=sections, total=Decimal("24000.00")))
    pages = [page.extract_text().splitlines() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) > 1
    for number, lines in enumerate(pages, start=1):
        headings = [ln for ln in lines if ln.startswith("Apprenti : ")]
        assert len(headings) == [ln.startswith("Sous-total du contrat") for ln in lines].count(True)
        assert f"Facture {DOCUMENT.number} – page {number}/{len(pages)}" in lines
    assert "Total TTC à payer 24 000,00 €" in pages[-1]
