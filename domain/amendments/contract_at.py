"""The contract as its avenants leave it: at a date (the initial Cerfa with the accepted avenants in effect then), as
it stands for the next avenant (with every accepted one), and the Cerfa an avenant sends. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Protocol

from domain.amendments.amendment_types import AmendmentRequest, AmendmentType
from domain.cerfa import Cerfa
from domain.contracts.cerfa_document import parse_cerfa
from domain.merge_patch import apply_merge_patch


class Accepted(Protocol):
    number: int
    changes: dict[str, Any]

    @property
    def in_effect_on(self) -> date | None: ...


def cerfa_at(initial: Mapping[str, Any], amendments: Iterable[Accepted], day: date) -> dict[str, Any]:
    """The accepted avenants in effect on `day` (effect date on or before it), applied in the order they took effect
    (by number on the same day), on the initial Cerfa."""
    due = [a for a in amendments if a.in_effect_on is not None and a.in_effect_on <= day]
    return _applied(initial, sorted(due, key=lambda a: (a.in_effect_on, a.number)))


def cerfa_now(initial: Mapping[str, Any], amendments: Iterable[Accepted]) -> dict[str, Any]:
    """Every accepted avenant applied, in their order: what the next avenant amends."""
    return _applied(initial, sorted((a for a in amendments if a.in_effect_on is not None), key=lambda a: a.number))


def _applied(initial: Mapping[str, Any], amendments: Iterable[Accepted]) -> dict[str, Any]:
    document: dict[str, Any] = dict(initial)
    for amendment in amendments:
        document = apply_merge_patch(document, amendment.changes)
    return document


def amended_cerfa(
    base: Mapping[str, Any], request: AmendmentRequest, kind: AmendmentType, number: int, numero_deca: str | None
) -> Cerfa:
    """The Cerfa the avenant sends: the contract as it stands, its changes, and the avenant's own fields (its type,
    the DECA number it amends, its effect date, our number of it until the OPCO gives its own: opco-wire.md §2.3).
    A result that breaks a format rule is refused whole (422)."""
    document = apply_merge_patch(dict(base), dict(request.changes))
    contrat = dict(document.get("contrat") or {})
    contrat.update(typeContratApp=kind.code, noAvenant=str(number))
    contrat.pop("dateEffetAvenant", None)
    if numero_deca is not None:
        contrat["numeroContratPrecedent"] = numero_deca
    if request.effect_date is not None:
        contrat["dateEffetAvenant"] = request.effect_date.isoformat()
    document["contrat"] = contrat
    return parse_cerfa(document)
