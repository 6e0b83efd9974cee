"""Taking a Cerfa's personal fields out (what the sealing mapper seals under the dossier's key), putting them back."""

from __future__ import annotations

import copy
from typing import Any

from domain.cerfa.personal import CERFA_PERSONAL_FIELDS, put_personal, take_personal


def test_the_fields_are_taken_out_of_a_copy_and_the_document_is_left_as_it_was(complete_cerfa: dict[str, Any]) -> None:
    before = copy.deepcopy(complete_cerfa)
    kept, taken = take_personal(complete_cerfa, CERFA_PERSONAL_FIELDS)

    assert complete_cerfa == before
    assert taken["apprenti.nir"] == before["apprenti"]["nir"]
    assert taken["maitre1.nom"] == before["maitre1"]["nom"]
    assert "nir" not in kept["apprenti"]
    assert "nom" not in kept["maitre1"]
    assert kept["employeur"] == before["employeur"]
    assert put_personal(copy.deepcopy(kept), taken) == before


def test_a_field_the_document_lacks_is_not_taken_and_nothing_is_added(complete_cerfa: dict[str, Any]) -> None:
    document = {**complete_cerfa, "maitre2": None}
    del document["apprenti"]
    kept, taken = take_personal(document, CERFA_PERSONAL_FIELDS)

    assert not any(path.startswith(("apprenti.", "maitre2.")) for path in taken)
    assert "apprenti" not in kept
    assert kept["maitre2"] is None
