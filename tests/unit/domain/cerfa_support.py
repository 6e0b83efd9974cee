"""The complete example Cerfa, changed field by field, and what the checks say of it."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

from stdnum.fr import nir as stdnum_nir

from domain.cerfa import Cerfa, check_cerfa
from domain.cerfa.dates import age_on

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
COMPLETE: dict[str, Any] = json.loads((EXAMPLES / "cerfa-complete.json").read_text(encoding="utf-8"))
CONCLUSION = date.fromisoformat(COMPLETE["contrat"]["dateConclusion"])
DELETE = object()
GUARDIAN: dict[str, Any] = {
    "nom": "Martin",
    "prenom": "Sophie",
    "courriel": "sophie.martin@example.com",
    "memeAdresse": True,
}


def cerfa_with(changes: dict[str, Any]) -> Cerfa:
    """The complete example with `changes` applied: dotted path -> new value, or DELETE."""
    document = copy.deepcopy(COMPLETE)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = document
        for name in parents:
            node = node[int(name)] if isinstance(node, list) else node.setdefault(name, {})
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return Cerfa.model_validate(document)


def found(changes: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in check_cerfa(cerfa_with(changes))}


def fields_with(code: str, changes: dict[str, Any]) -> list[str]:
    return [p.field for p in check_cerfa(cerfa_with(changes)) if p.code == code]


def message_of(code: str, changes: dict[str, Any]) -> str:
    (message,) = [p.message for p in check_cerfa(cerfa_with(changes)) if p.code == code]
    return message


def nir_of(sex: str, birth: date, place: str = "69266", order: str = "123", month: str | None = None) -> str:
    """A NIR with its key computed by python-stdnum: sex digit, birth year and month (or a pseudo-month), the
    INSEE code of the place of birth (69266: Villeurbanne), the birth certificate's order number."""
    body = f"{sex}{birth.year % 100:02d}{month or f'{birth.month:02d}'}{place}{order}"
    return body + stdnum_nir.calc_check_digits(body)


def born(day: str, sex: str = "2") -> dict[str, Any]:
    """The apprentice born on `day`, with a NIR that says so and the minor's boxes answered as that age asks
    (a minor on the conclusion date, not emancipated, with a legal representative living with them)."""
    birth = date.fromisoformat(day)
    minor = age_on(birth, CONCLUSION) < 18
    changes: dict[str, Any] = {
        "apprenti.dateNaissance": day,
        "apprenti.nir": nir_of(sex, birth),
        "apprenti.apprentiMineur": minor,
        "apprenti.apprentiMineurNonEmancipe": minor,
    }
    if minor:
        changes["apprenti.responsableLegal"] = GUARDIAN
    return changes
