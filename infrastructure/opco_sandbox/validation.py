"""The OPCO's own minimal checks of a submitted Cerfa (the CFA's software is expected to have done the rest)."""

from __future__ import annotations

from typing import Any

from infrastructure.opco_sandbox.days import is_wire_day
from infrastructure.opco_sandbox.errors import ApiError

REQUIRED = (
    "numeroInterne",
    "apprenti.nom",
    "apprenti.prenom",
    "apprenti.dateNaissance",
    "employeur.siret",
    "contrat.dateDebutContrat",
    "contrat.dateFinContrat",
    "formation.rncp",
)
DATES = ("apprenti.dateNaissance", "contrat.dateDebutContrat", "contrat.dateFinContrat", "contrat.dateConclusion")


def field_at(cerfa: dict[str, Any], dotted: str) -> Any:
    value: Any = cerfa
    for name in dotted.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value


def cerfa_errors(cerfa: dict[str, Any]) -> list[ApiError]:
    missing = [name for name in REQUIRED if field_at(cerfa, name) in (None, "")]
    errors = [ApiError("CHAMP_OBLIGATOIRE", f"Le champ {name} est obligatoire", name) for name in missing]
    for name in DATES:
        value = field_at(cerfa, name)
        if name not in missing and value not in (None, "") and not _is_date(value):
            errors.append(ApiError("FORMAT_INVALIDE", f"Le champ {name} doit être une date AAAA-MM-JJ", name))
    if not isinstance(cerfa.get("numeroInterne", ""), str):
        errors.append(ApiError("FORMAT_INVALIDE", "Le champ numeroInterne doit être une chaîne", "numeroInterne"))
    return errors


def _is_date(value: Any) -> bool:
    return is_wire_day(value)  # a day, or a datetime with or without an offset
