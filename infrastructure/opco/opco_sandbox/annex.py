"""The annex costs the sandbox engages with a dossier (`engagementsFraisAnnexe`), as an OPCO answers them once it
commits: first equipment at its cap, and a meal and a night per day of training at the legal unit prices
(D6332-83: 3 € a meal, 6 € a night). The items' shape and the natures' spelling are those observed
(opco-wire.md §8, api-convergence.md §3.1): `{natureFrais, quantite, prixUnitaire, montantTotal}`, `Premierequipement`,
`Restauration`, `Hebergement`."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from infrastructure.opco.opco_sandbox.invoice_rules import PER_MEAL, PER_NIGHT, PREMIER_EQUIPEMENT_CAP
from infrastructure.opco.opco_sandbox.schedule import money
from infrastructure.opco.opco_sandbox.validation import field_at

HOURS_A_DAY = 7  # a day of training at the CFA, to count its meals and nights


def frais_annexes_wire(cerfa: dict[str, Any]) -> list[dict[str, Any]]:
    """What the OPCO engages for this dossier: first equipment, and the meals and nights of its training days
    (those only where the Cerfa gives the training's length in hours)."""
    engaged = [_item("Premierequipement", 1, PREMIER_EQUIPEMENT_CAP)]
    days = _training_days(field_at(cerfa, "formation.dureeFormation"))
    if days:
        engaged += [_item("Restauration", days, PER_MEAL), _item("Hebergement", days, PER_NIGHT)]
    return engaged


def _training_days(hours: Any) -> int | None:
    if isinstance(hours, bool) or not isinstance(hours, int | float | str):
        return None
    try:
        value = Decimal(str(hours))
    except ArithmeticError:
        return None
    return math.ceil(value / HOURS_A_DAY) if value.is_finite() and value > 0 else None


def _item(nature: str, quantite: int, prix_unitaire: Decimal) -> dict[str, Any]:
    return {
        "natureFrais": nature,
        "quantite": quantite,
        "prixUnitaire": prix_unitaire,
        "montantTotal": money(prix_unitaire * quantite),
    }
