"""The invoice as a PDF (A4, French layout), with fpdf2.

Fonts: the PDF core fonts (Helvetica) encoded as windows-1252, which holds "€" and the French accents, so that no
font file has to be found on the machine. The same document always gives the same bytes: the creation date is the
invoice's date, and fpdf2 derives the file identifier from the content."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from application.invoices.invoice_document import DossierSection, InvoiceDocument

_FONT = "Helvetica"
_WIDTH = 180.0  # A4 less 15 mm margins
# the lines' columns: label, échéance, codification, quantity, amount
_COLUMNS = (84.0, 22.0, 30.0, 14.0, 30.0)
_SECTION_HEAD = 40.0  # mm: the heading, the table's head and two lines


def french_money(amount: Decimal) -> str:
    """1234.5 -> "1 234,50 €" (exact: Decimal, rounded to the cent by the caller's rules)."""
    sign = "-" if amount < 0 else ""
    units, cents = f"{abs(amount):.2f}".split(".")
    groups: list[str] = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    return f"{sign}{' '.join(groups)},{cents} €"


def french_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class _InvoicePdf(FPDF):
    def __init__(self, number: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._number = number

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FONT, "", 8)
        self.cell(0, 5, f"Facture {self._number} – page {self.page_no()}/{{nb}}", align="C")


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    pdf = _InvoicePdf(document.number)
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_creation_date(datetime.combine(document.issued_on, time(0, 0), tzinfo=UTC))
    pdf.set_title(f"Facture {document.number}")
    pdf.set_author(document.issuer.name)
    pdf.set_creator("Convergence")
    pdf.add_page()
    _parties(pdf, document)
    _heading(pdf, document)
    for section in document.sections:
        _section(pdf, section)
    _totals(pdf, document)
    _payment(pdf, document)
    return bytes(pdf.output())


def _parties(pdf: FPDF, document: InvoiceDocument) -> None:
    issuer = document.issuer
    top = pdf.get_y()
    pdf.set_font(_FONT, "B", 12)
    pdf.multi_cell(95, 6, issuer.name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 9)
    for line in (
        *issuer.address_lines,
        f"SIRET : {issuer.siret}",
        f"UAI : {issuer.uai}",
        f"Déclaration d'activité n° {issuer.declaration_number}",
    ):
        pdf.cell(95, 4.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    bottom = pdf.get_y()
    pdf.set_xy(120, top + 8)
    pdf.set_font(_FONT, "", 9)
    pdf.cell(75, 5, "Facturé à", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "B", 11)
    pdf.multi_cell(75, 5.5, document.opco_name, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_y(max(bottom, pdf.get_y()) + 10)


def _heading(pdf: FPDF, document: InvoiceDocument) -> None:
    pdf.set_font(_FONT, "B", 16)
    pdf.cell(_WIDTH, 9, f"FACTURE N° {document.number}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 10)
    pdf.cell(_WIDTH, 5.5, f"Date : {french_date(document.issued_on)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(_WIDTH, 5.5, "Objet : contrats d'apprentissage – prise en charge", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _section(pdf: FPDF, section: DossierSection) -> None:
    if pdf.will_page_break(_SECTION_HEAD):  # the apprentice's heading stays with its first lines
        pdf.add_page()
    pdf.set_font(_FONT, "B", 10)
    pdf.cell(_WIDTH, 6, f"Apprenti : {section.apprentice}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 9)
    pdf.cell(_WIDTH, 4.5, f"Employeur : {section.employer}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    numbers = f"N° DECA : {section.numero_deca or '—'}    N° dossier OPCO : {section.numero_dossier or '—'}"
    pdf.cell(_WIDTH, 4.5, numbers, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)
    _row(pdf, ("Désignation", "Échéance", "Codification", "Qté", "Montant"), bold=True, fill=True)
    for line in section.lines:
        quantity = "" if line.quantity is None else str(line.quantity)
        cells = (line.label, str(line.numero_echeance), line.codification or "", quantity, french_money(line.amount))
        _row(pdf, cells)
    pdf.set_font(_FONT, "B", 9)
    pdf.cell(sum(_COLUMNS[:-1]), 6, "Sous-total du contrat", border="T", align="R")
    pdf.cell(_COLUMNS[-1], 6, french_money(section.amount), border="T", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)


def _row(pdf: FPDF, cells: tuple[str, ...], *, bold: bool = False, fill: bool = False) -> None:
    pdf.set_font(_FONT, "B" if bold else "", 9)
    pdf.set_fill_color(235, 238, 242)
    aligns = ("L", "C", "C", "R", "R")
    for width, text, align in zip(_COLUMNS, cells, aligns, strict=True):
        pdf.cell(width, 6, text, border="B", align=align, fill=fill)
    pdf.ln(6)


def _totals(pdf: FPDF, document: InvoiceDocument) -> None:
    label_width, amount_width = 50.0, 30.0
    left = pdf.l_margin + _WIDTH - label_width - amount_width
    for label, amount, style in (
        ("Total HT", document.total, ""),
        ("TVA", Decimal("0.00"), ""),
        ("Total TTC à payer", document.total, "B"),
    ):
        pdf.set_x(left)
        pdf.set_font(_FONT, style, 10)
        pdf.cell(label_width, 6.5, label, border=1)
        pdf.cell(amount_width, 6.5, french_money(amount), border=1, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font(_FONT, "I", 9)
    pdf.multi_cell(_WIDTH, 4.5, document.vat_mention, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _payment(pdf: FPDF, document: InvoiceDocument) -> None:
    issuer = document.issuer
    pdf.set_font(_FONT, "B", 10)
    pdf.cell(_WIDTH, 6, "Conditions de paiement", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 9)
    for line in (
        f"Paiement par virement à 30 jours à réception de la facture, au plus tard le {french_date(document.due_on)}.",
        f"IBAN : {issuer.iban}",
        f"BIC : {issuer.bic}",
        f"Rappeler le numéro de facture {document.number} en référence du virement.",
    ):
        pdf.cell(_WIDTH, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
