"""The codes of the places of birth and work the Cerfa names: départements, overseas collectivities, abroad.

Source: INSEE's Code officiel géographique (COG), départements and collectivités d'outre-mer. Corsica is
2A/2B (the single code 20 ended on 1 January 1976); Saint-Barthélemy (977) and Saint-Martin (978) left
Guadeloupe in 2007; Mayotte became département 976 in 2011 (985 before). 99 is the Cerfa's code for a birth
abroad.
"""

from __future__ import annotations

from typing import Final

METROPOLE: Final = frozenset([f"{n:02d}" for n in range(1, 20)] + ["2A", "2B"] + [f"{n:02d}" for n in range(21, 96)])
OUTRE_MER_DEPARTEMENTS: Final = frozenset({"971", "972", "973", "974", "976"})
OUTRE_MER_COLLECTIVITES: Final = frozenset({"975", "977", "978", "984", "986", "987", "988", "989"})
ABROAD: Final = "99"
MAYOTTE: Final = "976"

BIRTH_DEPARTEMENTS: Final = METROPOLE | OUTRE_MER_DEPARTEMENTS | OUTRE_MER_COLLECTIVITES | {ABROAD}


def is_mayotte_postcode(code_postal: str | None) -> bool:
    """Mayotte's postcodes are 976xx (97600 Mamoudzou, 97615 Pamandzi…)."""
    return code_postal is not None and code_postal.startswith(MAYOTTE)
