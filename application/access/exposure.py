"""Least exposure: which personal data of a Cerfa each role sees. One rule, a pure function over the Cerfa's dict.

- `PERSONAL_PATHS`: every field of the Cerfa that says something about a person (the apprentice, the legal
  representative, the tutors, the employer's contacts). What logs and scans look for; what an erasure touches.
- `RESTRICTED_PATHS`: the national identification numbers (NIR) of the apprentice and the tutors. A role sees them
  only if it needs them: `frontend` and `admin` write the Cerfa that goes to the OPCO, and must read back what
  they replace whole (PUT); an `auditor` reads what happened and checks it, which needs no NIR. No list ever shows
  them (the read models do not hold them).

A dossier leaves the restricted fields out for the roles that may not see them (and names them in `hiddenFields`);
the history (`exposed`) masks every `nir` at any depth of an event's data, its last two digits kept so that an
auditor can still tell two numbers apart.
"""

from __future__ import annotations

import copy
from typing import Any

from application.access.access import Role

Path = tuple[str, ...]

_PERSON = ("nom", "prenom", "courriel")
_ADDRESS = ("adresse",)
PERSONAL_PATHS: tuple[Path, ...] = (
    *[("apprenti", name) for name in ("nom", "nomUsage", "prenom", "sexe", "dateNaissance", "communeNaissance")],
    *[("apprenti", name) for name in ("departementNaissance", "nir", "nationalite", "handicap", "telephone")],
    *[("apprenti", name) for name in ("courriel", "adresse")],
    *[("apprenti", "responsableLegal", name) for name in (*_PERSON, *_ADDRESS)],
    *[(tutor, name) for tutor in ("maitre1", "maitre2") for name in (*_PERSON, "dateNaissance", "nir")],
    ("employeur", "telephone"),
    ("employeur", "courriel"),
)
RESTRICTED_PATHS: tuple[Path, ...] = (("apprenti", "nir"), ("maitre1", "nir"), ("maitre2", "nir"))
SEES_RESTRICTED = frozenset({Role.FRONTEND, Role.ADMIN})


def hidden_paths(data: dict[str, Any], role: Role) -> list[str]:
    """The dotted paths of `data` (a Cerfa) that `role` may not see and that hold a value."""
    if role in SEES_RESTRICTED:
        return []
    return [".".join(path) for path in RESTRICTED_PATHS if _get(data, path) is not None]


def visible(data: dict[str, Any], role: Role) -> dict[str, Any]:
    """`data` (a Cerfa) as `role` may see it: the restricted fields it may not see are left out (a copy; `data`
    itself is unchanged)."""
    hidden = hidden_paths(data, role)
    if not hidden:
        return data
    shown = copy.deepcopy(data)
    for dotted in hidden:
        *parents, leaf = dotted.split(".")
        block = shown
        for name in parents:
            block = block[name]
        del block[leaf]
    return shown


# The fields of a dossier's events that hold a Cerfa, whole (created, replaced, imported) or a merge patch of it.
CERFA_FIELDS = ("cerfa", "changes")


def visible_event(record: dict[str, Any], role: Role) -> dict[str, Any]:
    """An event of the history (`{version, type, at, actor, data}`) as `role` may see it."""
    data = record["data"]
    if role in SEES_RESTRICTED or not any(isinstance(data.get(name), dict) for name in CERFA_FIELDS):
        return record
    shown = {
        name: visible(value, role) if name in CERFA_FIELDS and isinstance(value, dict) else value
        for name, value in data.items()
    }
    return {**record, "data": shown}


def _get(data: dict[str, Any], path: Path) -> Any:
    node: Any = data
    for name in path:
        if not isinstance(node, dict):
            return None
        node = node.get(name)
    return node


IDENTIFIER_KEYS = frozenset({"nir"})
SHOWN_DIGITS = 2


def exposed(value: Any, role: Role) -> Any:
    """Any plain JSON value (an event's data, a transmission's record) as `role` may see it."""
    return value if role in SEES_RESTRICTED else _masked(value)


def mask(identifier: str) -> str:
    return "*" * max(0, len(identifier) - SHOWN_DIGITS) + identifier[-SHOWN_DIGITS:]


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: mask(item) if key in IDENTIFIER_KEYS and isinstance(item, str) else _masked(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value
