"""The certificat de réalisation as a PDF (A4, French), with fpdf2, laid out like the usual model of the
"certificat de réalisation" of a training action: who attests, for whom, which action, when, how many hours.

The same fonts and determinism as the invoice (infrastructure.documents.invoice_pdf): Helvetica in windows-1252,
the creation date is the certificat's date, so the same certificat always gives the same bytes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from application.invoices.certificat_document import NATURE_ACTION, CertificatDocument
from infrastructure.documents.invoice_pdf import french_date

_FONT = "Helvetica"
_WIDTH = 180.0
_LABEL = 62.0


def render_certificat_pdf(document: CertificatDocument) -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_creation_date(datetime.combine(document.issued_on, time(0, 0), tzinfo=UTC))
    pdf.set_title(f"Certificat de réalisation – {document.apprentice}")
    pdf.set_author(document.cfa_name or document.cfa_siret)
    pdf.set_creator("Convergence")
    pdf.add_page()
    _heading(pdf, document)
    _attestation(pdf, document)
    _facts(pdf, document)
    _signature(pdf, document)
    return bytes(pdf.output())


def _heading(pdf: FPDF, document: CertificatDocument) -> None:
    pdf.set_font(_FONT, "B", 16)
    pdf.cell(_WIDTH, 10, "CERTIFICAT DE RÉALISATION", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 10)
    kind = "final" if document.final else "intermédiaire"
    line = f"Contrat d'apprentissage – certificat {kind}, échéance n° {document.numero_echeance}"
    pdf.cell(_WIDTH, 6, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if document.opco_name:
        pdf.cell(_WIDTH, 6, f"Destinataire : {document.opco_name}", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)


def _attestation(pdf: FPDF, document: CertificatDocument) -> None:
    pdf.set_font(_FONT, "", 11)
    who = document.cfa_name or "l'organisme de formation"
    text = (
        f"Je soussigné(e), représentant(e) légal(e) de {who} (SIRET {document.cfa_siret}"
        f"{', UAI ' + document.cfa_uai if document.cfa_uai else ''}), atteste que l'apprenti(e) désigné(e) ci-dessous"
        " a suivi l'action de formation suivante, dans le cadre de son contrat d'apprentissage :"
    )
    pdf.multi_cell(_WIDTH, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _facts(pdf: FPDF, document: CertificatDocument) -> None:
    rncp = (
        document.rncp if document.rncp is None or document.rncp.upper().startswith("RNCP") else f"RNCP{document.rncp}"
    )
    training = document.training + (f" ({rncp})" if rncp else "")
    employer = document.employer + (f" – SIRET {document.employer_siret}" if document.employer_siret else "")
    rows = (
        ("Apprenti(e)", document.apprentice),
        ("Employeur", employer or "—"),
        ("Intitulé de l'action", training or "—"),
        ("Nature de l'action", NATURE_ACTION),
        ("Formation prévue", _between(document.training_from, document.training_to)),
        ("Durée prévue (Cerfa)", _hours(document.planned_hours)),
        ("Période attestée", _between(document.period_from, document.period_to)),
        ("Heures réalisées sur la période", _hours(document.hours_done)),
        ("N° de dossier OPCO", document.numero_dossier),
    )
    pdf.set_font(_FONT, "", 10)
    bold = FontFace(emphasis="BOLD")
    with pdf.table(
        col_widths=(_LABEL, _WIDTH - _LABEL),
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        line_height=6.5,
        text_align="LEFT",
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=bold)
            row.cell(value)
    pdf.ln(6)
    pdf.set_font(_FONT, "I", 9)
    pdf.multi_cell(
        _WIDTH,
        4.5,
        "Sans préjudice des délais imposés par les règles du financement, l'organisme de formation s'engage à"
        " conserver l'ensemble des pièces justificatives qui ont permis d'établir le présent certificat pendant une"
        " durée de 3 ans à compter de la fin de l'année du dernier paiement.",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(8)


def _signature(pdf: FPDF, document: CertificatDocument) -> None:
    pdf.set_font(_FONT, "", 10)
    pdf.cell(_WIDTH, 6, f"Fait le {french_date(document.issued_on)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_x(pdf.l_margin + _WIDTH / 2)
    pdf.multi_cell(
        _WIDTH / 2,
        5.5,
        "Cachet et signature du représentant légal de l'organisme de formation\n(nom, prénom, qualité)",
        border=1,
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_x(pdf.l_margin + _WIDTH / 2)
    pdf.cell(_WIDTH / 2, 28, "", border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _between(start: date | None, end: date | None) -> str:
    if start and end:
        return f"du {french_date(start)} au {french_date(end)}"
    return "—"


def _hours(hours: int | None) -> str:
    return f"{hours} heures" if hours is not None else "—"
