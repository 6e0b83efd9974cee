"""The invoice as a PDF (A4, French layout), with fpdf2.

Fonts: the PDF core fonts (Helvetica) encoded as windows-1252, which holds "€" and the French accents, so that no
font file has to be found on the machine. The same document always gives the same bytes: the creation date is the
invoice's date, and fpdf2 derives the file identifier from the content.

The worker renders one PDF per invoice sent to an OPCO. fpdf2's cell() costs ~0.14 ms a call and multi_cell() much
more (its line breaker measures the line again at each character), while text() costs ~0.006 ms: so each string is
drawn with text() where cell() placed it (aligned within the cell margin, on the baseline of a vertically centred
line), the borders with line() and rect(), the long texts wrapped here on spaces, and the pages broken here (_room).
The footer alone keeps a cell() (~0.15 ms a page), for fpdf2's {nb} alias. The unit tests' invoice renders in
~1.85 ms instead of ~7.2 ms (benchmarks/invoice_pdf.py: other sizes)"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Literal

from fpdf import FPDF

from application.invoices.invoice_document import DossierSection, InvoiceDocument

_FONT = "Helvetica"
_WIDTH = 180.0  # A4 less 15 mm margins
# the lines' columns: label, échéance, codification, quantity, amount
_COLUMNS = (84.0, 22.0, 30.0, 14.0, 30.0)
_Align = Literal["L", "C", "R"]
_ALIGNS: tuple[_Align, ...] = ("L", "C", "C", "R", "R")
_HEAD_FILL = (235, 238, 242)
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
        # cell(), once a page: fpdf2 replaces the {nb} alias in what cell() draws, not in what text() draws
        self.set_y(-12)
        self.set_font(_FONT, "", 8)
        self.cell(0, 5, f"Facture {self._number} – page {self.page_no()}/{{nb}}", align="C")


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    pdf = _InvoicePdf(document.number)
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=20)  # only sets page_break_trigger: text() never breaks, _room does
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


def _cell(pdf: FPDF, x: float, w: float, h: float, text: str, align: _Align = "L") -> None:
    """Draws text where cell(w, h, text, align=align) at (x, pdf.y) would: centred vertically, within the margins."""
    if not text:
        return
    if align == "L":
        dx = pdf.c_margin
    else:
        width = _width(pdf, text)
        dx = (w - width) / 2 if align == "C" else w - pdf.c_margin - width
    pdf.text(x + dx, pdf.y + h / 2 + 0.3 * pdf.font_size, text)


def _width(pdf: FPDF, text: str) -> float:
    """get_string_width(text), read from the core font's width table: the same figure for a fraction of the time
    (get_string_width parses the text into styled fragments first, ~0.016 ms against ~0.0025 ms)."""
    assert pdf.current_font is not None
    return pdf.current_font.get_text_width(pdf.normalize_text(text), pdf.font_size_pt, None)[1] / pdf.k


def _room(pdf: FPDF, h: float) -> None:
    """A new page if h mm would run past the bottom margin."""
    if pdf.y + h > pdf.page_break_trigger:
        pdf.add_page()


def _say(pdf: FPDF, h: float, text: str, x: float | None = None, w: float = _WIDTH) -> None:
    """One line of text in a box of height h, then down by h."""
    _room(pdf, h)
    _cell(pdf, pdf.l_margin if x is None else x, w, h, text)
    pdf.y += h


def _wrapped(pdf: FPDF, h: float, text: str, x: float, w: float) -> None:
    """What multi_cell(w, h, text) drew, aligned left (multi_cell justified): a line of height h per wrapped line."""
    for line in _wrap(pdf, text, w - 2 * pdf.c_margin):
        _say(pdf, h, line, x, w)


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """The words of text in lines no wider than width (a word wider than width alone on its line)."""
    if _width(pdf, text) <= width:
        return [text]
    space = _width(pdf, " ")
    lines: list[str] = []
    words: list[str] = []
    used = 0.0
    for word in text.split():
        size = _width(pdf, word)
        if words and used + space + size > width:
            lines.append(" ".join(words))
            words, used = [], 0.0
        used += (space if words else 0.0) + size
        words.append(word)
    return [*lines, " ".join(words)]


def _parties(pdf: FPDF, document: InvoiceDocument) -> None:
    issuer = document.issuer
    top = pdf.y
    pdf.set_font(_FONT, "B", 12)
    _wrapped(pdf, 6, issuer.name, pdf.l_margin, 95)
    pdf.set_font(_FONT, "", 9)
    for line in (
        *issuer.address_lines,
        f"SIRET : {issuer.siret}",
        f"UAI : {issuer.uai}",
        f"Déclaration d'activité n° {issuer.declaration_number}",
    ):
        _say(pdf, 4.5, line)
    bottom = pdf.y
    pdf.y = top + 8
    _say(pdf, 5, "Facturé à", 120, 75)
    pdf.set_font(_FONT, "B", 11)
    _wrapped(pdf, 5.5, document.opco_name, 120, 75)
    pdf.y = max(bottom, pdf.y) + 10


def _heading(pdf: FPDF, document: InvoiceDocument) -> None:
    pdf.set_font(_FONT, "B", 16)
    _say(pdf, 9, f"FACTURE N° {document.number}")
    pdf.set_font(_FONT, "", 10)
    _say(pdf, 5.5, f"Date : {french_date(document.issued_on)}")
    _say(pdf, 5.5, "Objet : contrats d'apprentissage – prise en charge")
    pdf.y += 4


def _section(pdf: FPDF, section: DossierSection) -> None:
    _room(pdf, _SECTION_HEAD)  # the apprentice's heading stays with its first lines
    pdf.set_font(_FONT, "B", 10)
    _say(pdf, 6, f"Apprenti : {section.apprentice}")
    pdf.set_font(_FONT, "", 9)
    _say(pdf, 4.5, f"Employeur : {section.employer}")
    _say(pdf, 4.5, f"N° DECA : {section.numero_deca or '—'}    N° dossier OPCO : {section.numero_dossier or '—'}")
    pdf.y += 1.5
    _row(pdf, ("Désignation", "Échéance", "Codification", "Qté", "Montant"), head=True)
    for line in section.lines:
        quantity = "" if line.quantity is None else str(line.quantity)
        _row(pdf, (line.label, str(line.numero_echeance), line.codification or "", quantity, french_money(line.amount)))
    _room(pdf, 6)
    pdf.set_font(_FONT, "B", 9)
    left, right = pdf.l_margin, pdf.l_margin + _WIDTH
    pdf.line(left, pdf.y, right, pdf.y)
    _cell(pdf, left, sum(_COLUMNS[:-1]), 6, "Sous-total du contrat", "R")
    _cell(pdf, right - _COLUMNS[-1], _COLUMNS[-1], 6, french_money(section.amount), "R")
    pdf.y += 6 + 5


def _row(pdf: FPDF, cells: tuple[str, ...], *, head: bool = False) -> None:
    """A line of the table, its bottom border across; the table's head in bold on a grey ground."""
    _room(pdf, 6)
    pdf.set_font(_FONT, "B" if head else "", 9)
    x, y = pdf.l_margin, pdf.y
    if head:
        pdf.set_fill_color(*_HEAD_FILL)
        pdf.rect(x, y, _WIDTH, 6, style="F")
        pdf.set_fill_color(0)  # text() brackets every string with its own colour while the fill colour differs
    for width, text, align in zip(_COLUMNS, cells, _ALIGNS, strict=True):
        _cell(pdf, x, width, 6, text, align)
        x += width
    pdf.line(pdf.l_margin, y + 6, pdf.l_margin + _WIDTH, y + 6)
    pdf.y += 6


def _totals(pdf: FPDF, document: InvoiceDocument) -> None:
    label_width, amount_width, h = 50.0, 30.0, 6.5
    left = pdf.l_margin + _WIDTH - label_width - amount_width
    for label, amount, style in (
        ("Total HT", document.total, ""),
        ("TVA", Decimal("0.00"), ""),
        ("Total TTC à payer", document.total, "B"),
    ):
        _room(pdf, h)
        pdf.set_font(_FONT, style, 10)
        pdf.rect(left, pdf.y, label_width, h)
        pdf.rect(left + label_width, pdf.y, amount_width, h)
        _cell(pdf, left, label_width, h, label)
        _cell(pdf, left + label_width, amount_width, h, french_money(amount), "R")
        pdf.y += h
    pdf.y += 3
    pdf.set_font(_FONT, "I", 9)
    _wrapped(pdf, 4.5, document.vat_mention, pdf.l_margin, _WIDTH)
    pdf.y += 4


def _payment(pdf: FPDF, document: InvoiceDocument) -> None:
    issuer = document.issuer
    pdf.set_font(_FONT, "B", 10)
    _say(pdf, 6, "Conditions de paiement")
    pdf.set_font(_FONT, "", 9)
    for line in (
        f"Paiement par virement à 30 jours à réception de la facture, au plus tard le {french_date(document.due_on)}.",
        f"IBAN : {issuer.iban}",
        f"BIC : {issuer.bic}",
        f"Rappeler le numéro de facture {document.number} en référence du virement.",
    ):
        _say(pdf, 5, line)
