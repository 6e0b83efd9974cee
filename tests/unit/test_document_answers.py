"""What is kept of an OPCO's answer to a document: its identifiers, verbatim, wrapped or not (docs/wire.md D5)."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure.opco.opco_client.document_answers import parse_sent_document
from infrastructure.opco.opco_wire.documents import infos_fichier


@pytest.mark.parametrize(
    ("body", "identifiers", "etat"),
    [
        ({"numeroInterneDocument": "D-1"}, {"numeroInterneDocument": "D-1"}, None),
        ({"document": {"idDocument": 42, "etat": "RECU"}}, {"idDocument": "42"}, "RECU"),
        ([{"numeroInterne": "C-9", "message": "ok"}], {"numeroInterne": "C-9"}, None),
        (None, {}, None),
        ("accepted", {}, None),
    ],
)
def test_the_identifiers_are_kept(body: Any, identifiers: dict[str, str], etat: str | None) -> None:
    sent = parse_sent_document(body)
    assert (dict(sent.identifiers), sent.etat) == (identifiers, etat)


def test_infos_fichier_is_the_type_and_the_objects_in_order() -> None:
    assert infos_fichier("CERTIFICAT_REALISATION", (("FACTURE", "F1"), ("DOSSIER_APPRENTISSAGE", "NI-1"))) == {
        "typeFichier": "CERTIFICAT_REALISATION",
        "objets": [
            {"typeObjet": "FACTURE", "idObjet": "F1"},
            {"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": "NI-1"},
        ],
    }
