"""The translation between our Cerfa and the OPCO wire (infrastructure/opco/opco_wire): dates with the Paris offset,
every date form OPCOs answer with, and the reverse reading of a dossier back into our Cerfa's terms."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.contracts.cerfa_document import parse_cerfa
from infrastructure.opco.opco_client.parsing import parse_dossier
from infrastructure.opco.opco_wire import (
    CERFACIL,
    OBSERVED,
    WEDOF,
    WireVariant,
    cerfa_from_wire,
    dossier_body,
    encode,
    read_date,
    read_sent_date,
    write_date,
)
from infrastructure.opco.opco_wire.variants import DateForm
from tests.support import with_changes


@pytest.mark.parametrize(
    ("day", "written"),
    [
        (date(2026, 9, 1), "2026-09-01T00:00:00+02:00"),
        (date(2027, 1, 15), "2027-01-15T00:00:00+01:00"),
        (date(2026, 3, 29), "2026-03-29T00:00:00+01:00"),  # summer time begins at 2:00 that day
        (date(2026, 10, 25), "2026-10-25T00:00:00+02:00"),  # and ends at 3:00 that day
    ],
)
def test_a_day_is_written_as_its_midnight_in_france(day: date, written: str) -> None:
    assert write_date(day, DateForm.PARIS) == written
    assert write_date(day, DateForm.UTC_MIDNIGHT) == f"{day.isoformat()}T00:00:00+00:00"
    assert read_date(written) == day


@pytest.mark.parametrize(
    "text",
    [
        "2026-09-01",
        "2026-09-01T00:00:00",
        "2026-09-01T00:00:00+0000",
        "2026-09-01T00:00:00+02:00",
        "2026-09-01T00:00:00Z",
        "2026-08-31T22:00:00Z",  # French midnight, written in UTC
        "2026-08-31T22:00:00.0000000+00:00",  # .NET's seven digits
        "2026-09-01T00:00",
        "01/09/2026",
        " 2026-09-01 ",
    ],
)
def test_every_date_form_an_opco_answers_with_is_read(text: str) -> None:
    assert read_date(text) == date(2026, 9, 1)


@pytest.mark.parametrize("text", ["", "2026-02-30", "2026-9-1", "demain", "2026-09-01T25:00:00Z", None, 20260901])
def test_what_is_not_a_date_reads_as_none(text: Any) -> None:
    assert read_date(text) is None


def test_a_dossier_read_back_gives_the_day_in_france_and_the_deca_number_of_the_contract() -> None:
    answer = {
        "cerfa": {
            "numeroInterne": "C-1",
            "etat": "ENGAGE",
            "contrat": {"noContrat": "069202609NC0001", "dateDebutContrat": "2026-08-31T22:00:00Z"},
        },
        "echeances": [{"numero": 1, "montantTotal": 100, "dateOuverture": "2026-08-31T22:00:00Z"}],
    }

    found = parse_dossier(answer, "C-1")

    assert found is not None
    assert found.numero_deca == "069202609NC0001"
    assert found.echeances[0].date_ouverture == date(2026, 9, 1)
    assert found.cerfa == {"contrat": {"noContrat": "069202609NC0001", "dateDebutContrat": "2026-09-01"}}


@pytest.mark.parametrize("variant", [OBSERVED, CERFACIL, WEDOF], ids=lambda v: v.name)
def test_a_body_read_back_is_our_cerfa_again_for_every_field_that_travels(
    complete_cerfa: dict[str, Any], variant: WireVariant
) -> None:
    document = with_changes(
        complete_cerfa,
        maitre2={**complete_cerfa["maitre1"], "nom": "Roussel"},
        etablissementFormation={
            "memeResponsable": False,
            "denomination": "Site de Villeurbanne",
            "siret": "79852413800020",
            "adresse": {
                "numero": 25,
                "repetitionVoie": "T",
                "voie": "avenue Henri Barbusse",
                "codePostal": "69100",
                "commune": "Villeurbanne",
            },
        },
    )
    body = json.loads(encode(dossier_body("N-1", parse_cerfa(document), variant)), parse_float=Decimal)

    ours = cerfa_from_wire(body)

    read_back = parse_cerfa(ours).to_document()  # our model takes it
    assert read_back["apprenti"]["adresse"] == {
        "numero": 7,
        "repetitionVoie": "B",
        "voie": "rue Francis de Pressensé",
        "codePostal": "69100",
        "commune": "Villeurbanne",
    }
    assert read_back["apprenti"]["derniereClasse"] == "01"
    assert read_back["formation"]["rncp"] == "RNCP35340"
    assert read_back["contrat"]["dateDebutFormationPratique"] == "2026-09-01"
    assert read_back["contrat"]["remunerationsAnnuelles"][2] == {
        "dateDebut": "2028-04-01",
        "dateFin": "2028-08-31",
        "taux": "61",
        "typeSalaire": "SMC",
        "ordre": "2.2",
    }
    assert read_back["contrat"]["salaireEmbauche"] == "783.91"
    assert read_back["maitre2"]["nom"] == "Roussel"
    assert read_back["maitre2"]["diplome"] == complete_cerfa["maitre1"]["diplome"]
    assert read_back["etablissementFormation"]["memeResponsable"] is False
    assert read_back["etablissementFormation"]["adresse"]["repetitionVoie"] == "T"
    assert "numeroInterne" not in read_back
    travelling = ("denomination", "siret", "naf", "codeIdcc", "typeEmployeur", "nombreDeSalaries", "telephone")
    assert {k: read_back["employeur"][k] for k in travelling} == {k: complete_cerfa["employeur"][k] for k in travelling}


def test_a_blank_or_unreadable_value_is_left_out_rather_than_guessed() -> None:
    wire = {
        "apprenti": {"nom": "Durand", "dateNaissance": "", "handicap": "peut-être", "nationalite": "française"},
        "contrat": {"salaireEmbauche": "beaucoup", "dateRupture": "", "remunerationsAnnuelles": [{"taux": "43"}]},
        "formation": {"rncp": "RNCP 35340"},
        "organismeFormationLieuFormationPrincipal": None,
    }

    assert cerfa_from_wire(wire) == {
        "apprenti": {"nom": "Durand"},
        "contrat": {"remunerationsAnnuelles": [{"taux": "43"}]},
        "formation": {"rncp": "RNCP35340"},
    }


@pytest.mark.parametrize("odd", [None, "", "x", "12 ", 0, -3, 1.5, True, [], {}, ["x"], {"a": 1}, [{"b": 2}]])
def test_no_value_of_any_type_at_any_key_breaks_the_reading(odd: Any, complete_cerfa: dict[str, Any]) -> None:
    """A lookup that makes a re-send harmless reads the dossier: its Cerfa must never make that read fail."""
    body = json.loads(encode(dossier_body("N-1", parse_cerfa(complete_cerfa), OBSERVED)))

    def spoil(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: spoil(value) if isinstance(value, dict | list) else odd for key, value in node.items()}
        if isinstance(node, list):
            return [spoil(item) for item in node]
        return odd

    spoilt = {name: spoil(block) if isinstance(block, dict | list) else odd for name, block in body["cerfa"].items()}

    assert isinstance(cerfa_from_wire(spoilt), dict)
    assert isinstance(cerfa_from_wire(dict.fromkeys(body["cerfa"], odd)), dict)


def test_a_request_date_is_iso_only() -> None:
    """What clients send is ISO 8601; dd/mm/yyyy is a form some OPCOs answer with, never one a client sends."""
    assert read_sent_date("2026-09-01T00:00:00+02:00") == date(2026, 9, 1)
    assert read_sent_date("2026-09-01") == date(2026, 9, 1)
    assert read_sent_date("01/09/2026") is None
    assert read_date("01/09/2026") == date(2026, 9, 1)
