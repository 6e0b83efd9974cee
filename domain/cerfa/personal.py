"""Which fields of a Cerfa are personal data: what is sealed with the dossier's own data key, and what an erasure
removes (docs/privacy.md lists them with the reason). The employer, the training and the contract's terms stay:
they are the CFA's and the OPCO's records, not a person's."""

from __future__ import annotations

import copy
from typing import Any

Path = tuple[str, ...]

_APPRENTI = (
    "nom",
    "nomUsage",
    "prenom",
    "sexe",
    "dateNaissance",
    "lieuNaissanceFrance",
    "departementNaissance",
    "communeNaissance",
    "nir",
    "nationalite",
    "handicap",
    "telephone",
    "courriel",
    "adresse",
    "responsableLegal",
)
_MAITRE = ("nom", "prenom", "dateNaissance", "nir", "courriel")

CERFA_PERSONAL_FIELDS: tuple[Path, ...] = (
    *(("apprenti", name) for name in _APPRENTI),
    *(("maitre1", name) for name in _MAITRE),
    *(("maitre2", name) for name in _MAITRE),
)
SIGNATORY_PERSONAL_FIELDS: tuple[Path, ...] = (("nom",), ("prenom",))


def take_personal(document: dict[str, Any], fields: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The document without its personal fields, and those fields by dotted path (a copy: `document` is kept)."""
    kept = copy.deepcopy(document)
    taken: dict[str, Any] = {}
    for path in fields:
        parent = kept
        for name in path[:-1]:
            parent = parent.get(name) if isinstance(parent, dict) else None  # type: ignore[assignment]
        if isinstance(parent, dict) and path[-1] in parent:
            taken[".".join(path)] = parent.pop(path[-1])
    return kept, taken


def put_personal(document: dict[str, Any], taken: dict[str, Any]) -> dict[str, Any]:
    """The document with the fields `take_personal` took put back in place."""
    for dotted, value in taken.items():
        *parents, name = dotted.split(".")
        target = document
        for parent in parents:
            target = target.setdefault(parent, {})
        target[name] = value
    return document


def without_personal(document: dict[str, Any] | None, fields: tuple[Path, ...]) -> dict[str, Any] | None:
    return None if document is None else take_personal(document, fields)[0]
