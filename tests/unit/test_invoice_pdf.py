"""The invoice PDF: every figure of its input read back from the file, the same bytes for the same input, the long
texts wrapped within their box, the pages broken before the bottom margin with each apprentice kept with its table,
and the input assembled from an invoice, its contracts and the CFA's billing details."""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fpdf import FPDF
from pypdf import PageObject, PdfReader

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


PT = 72 / 25.4  # PDF points a millimetre
BOTTOM_MARGIN = 20 * PT


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@dataclass(frozen=True)
class Shown:
    """A string drawn on a page, at its origin in points from the page's bottom left corner."""

    x: float
    y: float
    text: str


def shown(pdf: bytes) -> list[list[Shown]]:
    """Each page's strings, in the order they are drawn."""
    return [strings_of(page) for page in PdfReader(io.BytesIO(pdf)).pages]


def strings_of(page: PageObject) -> list[Shown]:
    strings: list[Shown] = []
    page.extract_text(visitor_text=lambda t, _cm, tm, _f, _s: strings.append(Shown(tm[4], tm[5], t)))
    return [s for s in strings if s.text.strip()]


def lines_of(strings: list[Shown], text: str) -> list[Shown]:
    """The run of consecutive strings whose words are those of text."""
    words = text.split()
    for start in range(len(strings)):
        found: list[str] = []
        for end in range(start, len(strings)):
            found += strings[end].text.split()
            if found != words[: len(found)]:
                break
            if found == words:
                return strings[start : end + 1]
    raise AssertionError(f"not drawn: {text}")


def width_of(text: str, style: str, size: float) -> float:
    pdf = FPDF(unit="mm")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_font("Helvetica", style, size)
    return pdf.get_string_width(text)


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


def test_a_long_name_or_mention_wraps_within_its_box_and_keeps_every_word() -> None:
    issuer = replace(
        ISSUER,
        name="Centre de Formation d'Apprentis Interprofessionnel des Métiers de l'Artisanat et du Commerce de la "
        "Région Île-de-France",
    )
    opco = "OPCO des entreprises et salariés des services à forte intensité de main-d'oeuvre (Akto)"
    vat = f"{VAT_EXEMPTION}, mention prolongée ici pour qu'elle tienne sur plus d'une ligne de la facture imprimée."
    [page] = shown(render_invoice_pdf(replace(DOCUMENT, issuer=issuer, opco_name=opco, vat_mention=vat)))
    # text, the box's left edge and width in mm, the font, the line height in mm
    for text, left, width, style, size, height in (
        (issuer.name, 15, 95, "B", 12, 6),
        (opco, 120, 75, "B", 11, 5.5),
        (vat, 15, 180, "I", 9, 4.5),
    ):
        lines = lines_of(page, text)
        assert len(lines) > 1, text
        for above, below in itertools.pairwise(lines):
            assert below.y == pytest.approx(above.y - height * PT, abs=0.02)
        for drawn in lines:
            assert drawn.x == pytest.approx((left + 1) * PT, abs=0.01)  # fpdf's cell margin: 1 mm
            assert width_of(drawn.text, style, size) <= width - 2


def varied_sections(count: int) -> tuple[DossierSection, ...]:
    """count sections of 1 to 9 lines, so that some tables are broken between pages."""
    one = DocumentLine(PEDAGOGIE, 1, "E1", None, Decimal("1000.00"))
    return tuple(
        DossierSection(f"Apprenti {i}", "Employeur", f"DECA{i}", f"D{i}", (one,) * (i % 9 + 1)) for i in range(count)
    )


def test_an_invoice_of_sixty_contracts_keeps_each_heading_with_its_table_and_numbers_every_page() -> None:
    sections = varied_sections(60)
    total = sum((s.amount for s in sections), Decimal(0))
    pdf = render_invoice_pdf(replace(DOCUMENT, sections=sections, total=total))
    pages = [page.extract_text().splitlines() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) > 5
    headings: list[str] = []
    for number, lines in enumerate(pages, start=1):
        assert lines[-1] == f"Facture {DOCUMENT.number} – page {number}/{len(pages)}"
        for at, text in enumerate(lines):
            if text.startswith("Apprenti : "):
                headings.append(text)
                assert lines[at + 3].startswith("Désignation Échéance"), (number, text)
    assert headings == [f"Apprenti : {s.apprentice}" for s in sections]
    assert f"Total TTC à payer {french_money(total)}" in pages[-1]


TEXT_AT = re.compile(rb"BT ([\d.]+) ([\d.]+) Td")
LINE = re.compile(rb"[\d.]+ ([\d.]+) m [\d.]+ ([\d.]+) l S")
RECT = re.compile(rb"[\d.]+ ([\d.]+) [\d.]+ (-?[\d.]+) re")


def test_nothing_is_drawn_below_the_bottom_margin_but_the_footer() -> None:
    sections = varied_sections(60)
    pdf = render_invoice_pdf(replace(DOCUMENT, sections=sections, total=sum((s.amount for s in sections), Decimal(0))))
    pages = PdfReader(io.BytesIO(pdf)).pages
    for number, page in enumerate(pages, start=1):
        stream = page.get_contents()
        assert stream is not None
        content = stream.get_data()
        *body, footer = [float(m[2]) for m in TEXT_AT.finditer(content)]
        assert footer < BOTTOM_MARGIN
        assert strings_of(page)[-1].text.endswith(f"page {number}/{len(pages)}")  # the footer is the last string
        lows = [min(float(m[1]), float(m[2])) for m in LINE.finditer(content)]
        lows += [float(m[1]) + float(m[2]) for m in RECT.finditer(content)]
        assert body
        assert lows
        assert min(body + lows) >= BOTTOM_MARGIN - 0.01, number
