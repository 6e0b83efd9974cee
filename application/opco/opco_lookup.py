"""The optional lookup of the employer's OPCO by SIRET: a public directory asked through a port, its answers kept
in a cache with a lifetime (in the store, so a restart does not ask again), and recorded on the dossier.

The lookup never blocks a dossier: when the directory cannot answer, the IDCC table's answer stands and the
dossier says that the lookup could not be made; the next change of the Cerfa asks again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from application.ports import Clock
from domain.contracts.contract import Contract
from domain.contracts.contract_state import DRAFT_STATES
from domain.opco.opco_lookup import LookupOutcome, applies, employer_siret
from domain.opco.opcos import IdccRouting, Opco

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OpcoAnswer:
    """What the directory said of one SIRET."""

    siret: str
    outcome: LookupOutcome
    source: str  # which directory answered, e.g. "cfadock"
    checked_at: datetime
    opco: Opco | None = None
    idcc: str | None = None
    opco_name: str | None = None  # the OPCO as the directory names it

    def as_lookup(self) -> dict[str, Any]:
        """The fields the dossier's OpcoLookedUp event records (domain.opco.opco_lookup.LOOKUP_FIELDS)."""
        return {
            "siret": self.siret,
            "outcome": self.outcome.value,
            "opco": self.opco.value if self.opco else None,
            "idcc": self.idcc,
            "opco_name": self.opco_name,
            "source": self.source,
            "checked_at": self.checked_at.isoformat(),
        }


class OpcoDirectory(Protocol):
    """A public directory of the OPCO of each establishment. Never raises: a failure is an UNAVAILABLE answer."""

    def look_up(self, siret: str) -> OpcoAnswer: ...


class LookupCache(Protocol):
    def get(self, siret: str) -> OpcoAnswer | None: ...

    def put(self, answer: OpcoAnswer) -> None: ...


class OpcoLookup:
    def __init__(self, directory: OpcoDirectory, cache: LookupCache, clock: Clock, ttl: timedelta) -> None:
        self._directory = directory
        self._cache = cache
        self._clock = clock
        self._ttl = ttl

    def answer_for(self, siret: str) -> OpcoAnswer:
        """The cached answer while it is younger than the lifetime, else the directory's (cached unless it could
        not be had)."""
        cached = self._cache.get(siret)
        if cached is not None and self._clock.now() - cached.checked_at < self._ttl:
            return cached
        answer = self._directory.look_up(siret)
        if answer.outcome is LookupOutcome.UNAVAILABLE:
            log.warning("OPCO lookup of SIRET %s could not be made (%s)", siret, answer.source)
        else:
            self._cache.put(answer)
        return answer

    def update(self, contract: Contract, actor: str) -> None:
        """Record on a draft what the directory says of its employer's SIRET, unless the dossier already holds
        an answer for that SIRET (a failed lookup is made again)."""
        siret = employer_siret(contract.cerfa)
        if contract.state not in DRAFT_STATES or siret is None:
            return
        held = contract.opco_lookup
        if held is not None and applies(held, contract.cerfa) and held["outcome"] != LookupOutcome.UNAVAILABLE:
            return
        contract.record_opco_lookup(self.answer_for(siret).as_lookup(), actor)


def lookup_view(contract: Contract, routing: IdccRouting) -> dict[str, Any] | None:
    """The dossier's lookup as the API shows it: the directory's answer beside the table's, and whether they
    agree; null when no lookup was made."""
    lookup = contract.opco_lookup
    if lookup is None:
        return None
    employer = contract.cerfa.get("employeur") or {}
    table = routing.opco_for(employer.get("codeIdcc"))
    current = applies(lookup, contract.cerfa)
    found = lookup["outcome"] == LookupOutcome.FOUND
    return {
        "siret": lookup["siret"],
        "outcome": lookup["outcome"],
        "opco": lookup["opco"],
        "opcoName": lookup["opco_name"],
        "idcc": lookup["idcc"],
        "source": lookup["source"],
        "checkedAt": lookup["checked_at"],
        "appliesToCerfa": current,
        "tableOpco": table.value if table else None,
        "agreesWithTable": (lookup["opco"] == (table.value if table else None)) if found else None,
        "note": _note(lookup, current, table),
    }


def _note(lookup: dict[str, Any], current: bool, table: Opco | None) -> str:
    outcome, opco = lookup["outcome"], lookup["opco"]
    if not current:
        return "the lookup was made for another SIRET than the Cerfa's employer: it no longer applies"
    if outcome == LookupOutcome.UNAVAILABLE:
        return "the OPCO lookup by SIRET could not be made: the IDCC table's answer stands"
    if outcome == LookupOutcome.NOT_FOUND:
        return "the directory does not know this SIRET: the IDCC table's answer stands"
    if outcome == LookupOutcome.MULTIPLE:
        return "the directory gives several OPCOs for this SIRET: the IDCC table's answer stands"
    if table is None:
        return f"the lookup by SIRET gives {opco}; the IDCC table names no OPCO"
    if opco == table.value:
        return f"the lookup by SIRET confirms the IDCC table: {opco}"
    return f"the lookup by SIRET gives {opco} where the IDCC table gives {table.value}: the lookup decides"
