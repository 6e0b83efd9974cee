"""Pairing the OPCO's dossiers with the CFA's, never guessing (opco-wire.md §3, the Wedof pattern).

A dossier is paired by the OPCO's numbers only (numeroInterne, numeroExterne, DECA number), compared exactly after
removing spaces and case, among the dossiers of one CFA at one OPCO: the same DECA number at another OPCO is another
dossier, and nothing is ever paired by a person's name. Two candidates, or a candidate whose numbers disagree with
the OPCO's, make a conflict: reported, not resolved."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

FIELDS = ("numeroInterne", "numeroExterne", "numeroDeca")


def normalised(value: str | None) -> str | None:
    if value is None:
        return None
    text = "".join(value.split()).upper()
    return text or None


@dataclass(frozen=True, slots=True)
class Numbers:
    """The OPCO's numbers of one dossier, as given (None where it gives none)."""

    numero_interne: str | None
    numero_externe: str | None
    numero_deca: str | None

    def by_field(self) -> dict[str, str]:
        """The numbers given, normalised, by their wire name."""
        values = (self.numero_interne, self.numero_externe, self.numero_deca)
        return {name: text for name, value in zip(FIELDS, values, strict=True) if (text := normalised(value))}

    def merged(self, other: Numbers) -> Numbers:
        """These numbers, completed by `other`'s where these have none."""
        return Numbers(
            self.numero_interne or other.numero_interne,
            self.numero_externe or other.numero_externe,
            self.numero_deca or other.numero_deca,
        )

    def disagreement(self, other: Numbers) -> str | None:
        """The first number both give and that differs, if any."""
        mine, theirs = self.by_field(), other.by_field()
        return next((name for name in FIELDS if name in mine and name in theirs and mine[name] != theirs[name]), None)


class Outcome(StrEnum):
    CREATE = "created"
    MATCHED = "matched"
    CONFLICT = "conflicts"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    contract_id: UUID | None = None  # the dossier matched
    reason: str | None = None  # a conflict's code: no_number, several_candidates, numbers_disagree
    detail: str | None = None
    candidates: tuple[UUID, ...] = ()


class KnownDossiers:
    """The CFA's dossiers at one OPCO, indexed by each of the OPCO's numbers they carry."""

    def __init__(self) -> None:
        self._index: dict[str, dict[str, set[UUID]]] = {name: defaultdict(set) for name in FIELDS}
        self._numbers: dict[UUID, Numbers] = {}

    def __len__(self) -> int:
        return len(self._numbers)

    def __contains__(self, ident: object) -> bool:
        return ident in self._numbers

    def add(self, ident: UUID, numbers: Numbers) -> None:
        self._numbers[ident] = numbers
        for name, value in numbers.by_field().items():
            self._index[name][value].add(ident)

    def decide(self, numbers: Numbers) -> Decision:
        """Create, matched (with the dossier) or conflict (with its reason)."""
        given = numbers.by_field()
        if not given:
            return Decision(Outcome.CONFLICT, reason="no_number", detail="the OPCO gives no number for it")
        found: set[UUID] = set()
        for name, value in given.items():
            found |= self._index[name].get(value, set())
        if len(found) > 1:
            listed = tuple(sorted(found, key=str))
            return Decision(Outcome.CONFLICT, reason="several_candidates", candidates=listed, detail=_named(given))
        if not found:
            return Decision(Outcome.CREATE)
        [ident] = found
        field = numbers.disagreement(self._numbers[ident])
        if field is not None:
            detail = f"{field}: {given[field]} at the OPCO, {self._numbers[ident].by_field()[field]} here"
            return Decision(Outcome.CONFLICT, ident, "numbers_disagree", detail, (ident,))
        return Decision(Outcome.MATCHED, ident)


def _named(given: dict[str, str]) -> str:
    return "several dossiers carry " + ", ".join(f"{name} {value}" for name, value in given.items())
