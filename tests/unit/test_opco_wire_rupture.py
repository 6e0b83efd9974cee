"""The rupture's body as we send it (infrastructure/opco/opco_wire/rupture.py, docs/wire.md R1–R8) and its answer
read."""

from __future__ import annotations

from datetime import date

from application.opco.opco_gateway import OutgoingRupture, SentRupture
from domain.ruptures.rupture import Motif
from infrastructure.opco.opco_wire.rupture import MOTIF_CODES, RUPTURE_PATH, parse_sent_rupture, rupture_body


def test_the_body_names_the_dossier_and_the_rupture_with_dates_at_midnight_in_france() -> None:
    outgoing = OutgoingRupture(
        numero_interne="C-1",
        numero_externe="EXT-1",
        numero_deca=None,
        date_effet=date(2026, 11, 20),
        motif="commun_accord",
        initiative="commun",
        date_signalement=date(2026, 7, 1),
    )
    assert RUPTURE_PATH == "/v2/dossiers/rupture/employeur"
    assert rupture_body(outgoing) == {
        "numeroInterne": "C-1",
        "numeroExterne": "EXT-1",
        "dateEffetRupture": "2026-11-20T00:00:00+01:00",
        "codeMotifRupture": "ACCORD_PARTIES",
        "initiativeRupture": "COMMUN",
        "dateSignalement": "2026-07-01T00:00:00+02:00",
    }  # the DECA number and the comment, absent, are left out
    assert set(MOTIF_CODES) == {m.value for m in Motif}


def test_the_answer_is_read_where_it_says_something() -> None:
    assert parse_sent_rupture({"cerfa": {"etat": "RUPTU", "numeroExterne": "X"}}) == SentRupture("RUPTU", "X")
    assert parse_sent_rupture([{"etat": "RUPTURE"}]) == SentRupture("RUPTURE")
    assert parse_sent_rupture(None) == SentRupture(None)
    assert parse_sent_rupture({"etat": ""}) == SentRupture(None)
