"""Which fields of a Cerfa are personal data: what is sealed with the dossier's own data key, and what an erasure
removes (docs/privacy.md lists them with the reason). The employer, the training and the contract's terms stay:
they are the CFA's and the OPCO's records, not a person's."""

from __future__ import annotations

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
    """The document without its personal fields, and those fields by dotted path. `document` is kept: only the
    objects on the paths to the fields taken are copied (a deep copy of a whole Cerfa, for every event that
    carries one, was a tenth of a command's time); the rest is shared, as neither is changed afterwards."""
    kept = dict(document)
    copied = {id(kept)}
    taken: dict[str, Any] = {}
    for path in fields:
        parent = _copied_parent(kept, path, copied)
        if parent is not None and path[-1] in parent:
            taken[".".join(path)] = parent.pop(path[-1])
    return kept, taken


def _copied_parent(kept: dict[str, Any], path: Path, copied: set[int]) -> dict[str, Any] | None:
    """The object holding `path`'s last field in `kept`, each object on the way copied once; None if there is none."""
    parent = kept
    for name in path[:-1]:
        child = parent.get(name)
        if not isinstance(child, dict):
            return None
        if id(child) not in copied:
            child = dict(child)
            parent[name] = child
            copied.add(id(child))
        parent = child
    return parent


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
