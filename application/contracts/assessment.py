"""What a dossier version lacks and where it goes, computed once per version: both are fixed by its events."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from uuid import UUID

from domain.contracts.cerfa_document import employer_idcc
from domain.contracts.contract import Contract
from domain.opco.opcos import IdccRouting, Opco
from domain.problems import Problem


@dataclass(frozen=True, slots=True)
class Assessment:
    problems: tuple[Problem, ...]
    opco: Opco | None
    opco_source: str | None  # "submission", "chosen", "lookup" (by SIRET) or "idcc"


def assess(contract: Contract, routing: IdccRouting) -> Assessment:
    if contract.submitted_to:
        return Assessment((), Opco(contract.submitted_to), "submission")
    cerfa = contract.cerfa_model
    problems = tuple(contract.problems(routing, cerfa))
    if contract.opco_choice:
        return Assessment(problems, Opco(contract.opco_choice), "chosen")
    looked_up = contract.decided_opco()
    if looked_up:
        return Assessment(problems, looked_up, "lookup")
    routed = routing.opco_for(employer_idcc(cerfa))
    return Assessment(problems, routed, "idcc" if routed else None)


class Assessments:
    """A bounded, thread-safe memo of `assess` keyed by (dossier id, version)."""

    def __init__(self, routing: IdccRouting, maxsize: int = 4096) -> None:
        self._routing = routing
        self._maxsize = maxsize
        self._memo: OrderedDict[tuple[UUID, int], Assessment] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, contract: Contract, assessment: Assessment) -> None:
        """Keep what was computed for a version before saving it (only once it is saved: a version that lost a
        race would otherwise lend its problems to the one that won)."""
        with self._lock:
            self._memo[(contract.id, contract.version)] = assessment
            if len(self._memo) > self._maxsize:
                self._memo.popitem(last=False)

    def of(self, contract: Contract) -> Assessment:
        key = (contract.id, contract.version)
        with self._lock:
            found = self._memo.get(key)
        if found is None:
            found = assess(contract, self._routing)
            self.remember(contract, found)
        return found
