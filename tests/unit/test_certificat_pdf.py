"""The certificat de réalisation as a PDF: what it says, and the same certificat always gives the same bytes."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

from pypdf import PdfReader

from application.invoices.certificat_document import CertificatDocument
from infrastructure.documents.certificat_pdf import render_certificat_pdf

CERTIFICAT = CertificatDocument(
    cfa_name="CFA des Métiers de l'Artisanat",
    cfa_siret="79852413800012",
    cfa_uai="0751234A",
    apprentice="Léa Dupont-Moreau",
    employer="Boulangerie Étienne et Fils",
    employer_siret="12345678900011",
    training="CAP Boulanger",
    rncp="37862",
    training_from=date(2026, 9, 1),
    training_to=date(2028, 6, 30),
    planned_hours=840,
    period_from=date(2026, 9, 1),
    period_to=date(2027, 2, 28),
    hours_done=212,
    numero_echeance=2,
    final=False,
    numero_dossier="ATLAS-000123",
    opco_name="OPCO ATLAS",
    issued_on=date(2027, 3, 2),
)


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_it_says_who_attests_for_whom_what_when_and_how_many_hours() -> None:
    text = text_of(render_certificat_pdf(CERTIFICAT))
    for expected in (
        "CERTIFICAT DE RÉALISATION",
        "certificat intermédiaire, échéance n° 2",
        "CFA des Métiers de l'Artisanat (SIRET 79852413800012, UAI 0751234A)",
        "Léa Dupont-Moreau",
        "Boulangerie Étienne et Fils – SIRET 12345678900011",
        "CAP Boulanger (RNCP37862)",
        "du 01/09/2026 au 28/02/2027",
        "840 heures",
        "212 heures",
        "Fait le 02/03/2027",
    ):
        assert expected in text, expected


def test_the_same_certificat_gives_the_same_bytes_and_a_final_one_says_so() -> None:
    assert render_certificat_pdf(CERTIFICAT) == render_certificat_pdf(CERTIFICAT)
    assert "certificat final" in text_of(render_certificat_pdf(replace(CERTIFICAT, final=True, hours_done=None)))
