"""An OPCO's checks of a POSTed dossier, from the same description the client translates with.

Lenient (the sandbox's default): the required fields are there and every date reads in one of the forms real
clients send. Strict: besides, no key outside the description and every value of its type, dates with their time
and offset as real clients write them (opco-wire.md §8). Paths are dotted from inside `cerfa` ("apprenti.nom").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from infrastructure.opco.opco_wire.dates import WITH_TIME_AND_OFFSET, read_date
from infrastructure.opco.opco_wire.description import DOSSIER, MAITRE2, Kind, WireBlock, WireField

MISSING: Final = "CHAMP_OBLIGATOIRE"
INVALID: Final = "FORMAT_INVALIDE"
UNKNOWN: Final = "CHAMP_INCONNU"
NO_CERFA: Final = "CERFA_MANQUANT"

_NUMBER: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_RNCP: Final = re.compile(r"(?:RNCP)?[0-9]{2,5}")
_EXPECTED: Final = {
    Kind.TEXT: "une chaîne",
    Kind.CODE_TEXT: "une chaîne",
    Kind.CODE: "un code numérique",
    Kind.COUNT: "un nombre entier",
    Kind.BOOL: "un booléen (true/false)",
    Kind.DATE: "une date avec son heure et son fuseau (AAAA-MM-JJThh:mm:ss+hh:mm)",
    Kind.AMOUNT: "un nombre décimal",
    Kind.RNCP: "un code RNCP (RNCP suivi de 2 à 5 chiffres)",
}
_TOP_LEVEL: Final = frozenset({"cerfa", MAITRE2})


@dataclass(frozen=True, slots=True)
class Violation:
    code: str
    description: str
    field: str


def dossier_violations(body: Any, *, strict: bool = False) -> list[Violation]:
    """Everything wrong with a POST /dossiers body; empty when the OPCO takes it."""
    cerfa = body.get("cerfa") if isinstance(body, Mapping) else None
    if not isinstance(cerfa, Mapping):
        return [Violation(NO_CERFA, "Le bloc cerfa est obligatoire", "cerfa")]
    assert isinstance(body, Mapping)
    found: list[Violation] = []
    if strict:
        found += [_unknown(str(name)) for name in body if name not in _TOP_LEVEL]
    if MAITRE2 in body and MAITRE2 not in cerfa:
        cerfa = {**cerfa, MAITRE2: body[MAITRE2]}
    found += _block_violations(DOSSIER, cerfa, "", strict)
    return found


def _block_violations(block: WireBlock, wire: Mapping[str, Any], prefix: str, strict: bool) -> list[Violation]:
    found: list[Violation] = []
    known: set[str] = set()
    for member in block.members:
        names = (member.name, *(member.aliases if isinstance(member, WireField) else ()))
        known.update(names)
        value = next((wire[name] for name in names if name in wire), None)
        path = prefix + member.name
        if isinstance(member, WireBlock):
            found += _nested(member, value, path, strict)
        else:
            found += _field_violations(member, value, path, strict)
    if strict:
        found += [_unknown(prefix + str(name)) for name in wire if name not in known]
    return found


def _nested(block: WireBlock, value: Any, path: str, strict: bool) -> list[Violation]:
    if block.repeated and isinstance(value, list):
        found = [_type(path, "une liste d'objets") for item in value if not isinstance(item, Mapping)]
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                found += _block_violations(block, item, f"{path}.{index}.", strict)
        return found
    if isinstance(value, Mapping) and not block.repeated:
        return _block_violations(block, value, path + ".", strict)
    if value is None or value == "":
        return _block_violations(block, {}, path + ".", strict=False)  # only its required fields are missing
    return [_type(path, "une liste d'objets" if block.repeated else "un objet")] if strict else []


def _field_violations(field: WireField, value: Any, path: str, strict: bool) -> list[Violation]:
    if value is None or value == "":
        return [Violation(MISSING, f"Le champ {path} est obligatoire", path)] if field.required else []
    if strict and not _of_kind(field.kind, value):
        return [_type(path, _EXPECTED[field.kind])]
    if field.kind is Kind.DATE and read_date(value) is None:
        return [Violation(INVALID, f"Le champ {path} doit être une date (AAAA-MM-JJ, avec ou sans heure)", path)]
    return []


def _of_kind(kind: Kind, value: Any) -> bool:
    if isinstance(value, bool):
        return kind is Kind.BOOL
    if kind is Kind.TEXT:
        return isinstance(value, str)
    if kind is Kind.CODE_TEXT:
        return isinstance(value, str | int)
    if kind in (Kind.CODE, Kind.COUNT):
        return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())
    if kind is Kind.AMOUNT:
        return isinstance(value, int | float | Decimal) or (isinstance(value, str) and bool(_NUMBER.fullmatch(value)))
    if kind is Kind.DATE:
        return isinstance(value, str) and WITH_TIME_AND_OFFSET.fullmatch(value) is not None
    if kind is Kind.RNCP:
        return isinstance(value, str) and _RNCP.fullmatch(value.strip().upper()) is not None
    return False


def _type(path: str, expected: str) -> Violation:
    return Violation(INVALID, f"Le champ {path} doit être {expected}", path)


def _unknown(path: str) -> Violation:
    return Violation(UNKNOWN, f"Le champ {path} est inconnu", path)
