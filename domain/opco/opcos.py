"""The eleven OPCOs, by stable code, and the routing of an employer's collective agreement (IDCC) to one."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Opco(StrEnum):
    AFDAS = "AFDAS"
    AKTO = "AKTO"
    ATLAS = "ATLAS"
    CONSTRUCTYS = "CONSTRUCTYS"
    OCAPIAT = "OCAPIAT"
    OPCO2I = "OPCO2I"
    OPCOEP = "OPCOEP"
    MOBILITES = "MOBILITES"
    SANTE = "SANTE"
    COHESION_SOCIALE = "COHESION_SOCIALE"
    OPCOMMERCE = "OPCOMMERCE"


OPCO_NAMES: Mapping[Opco, str] = {
    Opco.AFDAS: "AFDAS",
    Opco.AKTO: "AKTO",
    Opco.ATLAS: "OPCO ATLAS",
    Opco.CONSTRUCTYS: "Constructys (OPCO de la Construction)",
    Opco.OCAPIAT: "OCAPIAT",
    Opco.OPCO2I: "OPCO 2i",
    Opco.OPCOEP: "OPCO EP (entreprises de proximité)",
    Opco.MOBILITES: "OPCO Mobilités",
    Opco.SANTE: "OPCO Santé",
    Opco.COHESION_SOCIALE: "Uniformation (OPCO Cohésion sociale)",
    Opco.OPCOMMERCE: "L'Opcommerce",
}

# Words that name one OPCO in the names the public sources give them: the 2019 table ("OPCO entreprises et salariés
# des services à forte intensité de main-d'œuvre"), France compétences' SIRO table ("OPCO2I", "L'OPCOMMERCE",
# "UNIFORMATION COHESION SOCIALE"), CFA Dock ("AKTO / Opco entreprises et salariés…", "Opco Mobilités"). The first
# match wins, so the more specific words come first.
_NAME_WORDS: tuple[tuple[str, Opco], ...] = (
    ("akto", Opco.AKTO),
    ("forte intensite de main", Opco.AKTO),
    ("afdas", Opco.AFDAS),
    ("atlas", Opco.ATLAS),
    ("ocapiat", Opco.OCAPIAT),
    ("constructys", Opco.CONSTRUCTYS),
    ("construction", Opco.CONSTRUCTYS),
    ("opcommerce", Opco.OPCOMMERCE),
    ("opco commerce", Opco.OPCOMMERCE),
    ("opco2i", Opco.OPCO2I),
    ("opco 2i", Opco.OPCO2I),
    ("interindustriel", Opco.OPCO2I),
    ("opcoep", Opco.OPCOEP),
    ("opco ep", Opco.OPCOEP),
    ("entreprises de proximite", Opco.OPCOEP),
    ("mobilite", Opco.MOBILITES),
    ("sante", Opco.SANTE),
    ("uniformation", Opco.COHESION_SOCIALE),
    ("cohesion sociale", Opco.COHESION_SOCIALE),
)


def opco_from_name(name: str | None) -> Opco | None:
    """The OPCO a public source names, whatever its spelling; None for a name that designates none of them
    (an empty name, "Opco multiple", …). A stable code (`OPCO2I`) is accepted as such."""
    if not name:
        return None
    if name in Opco.__members__:
        return Opco(name)
    folded = unicodedata.normalize("NFKD", name.casefold())
    words = " ".join(re.sub(r"[^a-z0-9]+", " ", "".join(c for c in folded if not unicodedata.combining(c))).split())
    for word, opco in _NAME_WORDS:
        if re.search(rf"(^| ){word}", words):
            return opco
    return None


# -- the collective agreements (IDCC) and their OPCO ------------------------------------------------------------

NO_AGREEMENT = "9999"  # DSN: the employer applies no collective agreement
NOT_YET_IN_FORCE = "9998"  # DSN: the employer's agreement is not in force yet (it has no IDCC of its own)
IDCC_WITHOUT_AGREEMENT = frozenset({NO_AGREEMENT, NOT_YET_IN_FORCE})


class ConventionStatus(StrEnum):
    IN_FORCE = "in_force"
    ABROGATED = "abrogated"  # abrogated, replaced or lapsed: no text of it is in force any more
    SPECIAL = "special"  # 9999 and 9998, which name no agreement
    UNKNOWN = "unknown"  # the source gives no legal state


@dataclass(frozen=True, slots=True)
class Convention:
    """One IDCC of the reference table: its label and legal state as the sources give them, and its OPCO where
    a source names one."""

    idcc: str
    label: str = ""
    status: ConventionStatus = ConventionStatus.UNKNOWN
    opco: Opco | None = None
    ended_on: date | None = None
    replaced_by: str | None = None

    def abrogated_on(self, day: date | None) -> bool:
        """Whether it no longer applied on that day (on any day, without one; ever, when the end is unknown)."""
        if self.status is not ConventionStatus.ABROGATED:
            return False
        return self.ended_on is None or day is None or day >= self.ended_on


class IdccRouting:
    """IDCC → convention and competent OPCO, from the reference table (loaded by infrastructure)."""

    def __init__(self, conventions: Iterable[Convention] | Mapping[str, Opco], *, as_of: str = "") -> None:
        if isinstance(conventions, Mapping):
            conventions = [Convention(idcc, opco=opco) for idcc, opco in conventions.items()]
        self._table = {c.idcc.zfill(4): c for c in conventions}
        self.as_of = as_of  # the date of the reference, for the messages

    def __len__(self) -> int:
        return len(self._table)

    def convention(self, idcc: str | None) -> Convention | None:
        return self._table.get(idcc.zfill(4)) if idcc else None

    def opco_for(self, idcc: str | None) -> Opco | None:
        if idcc is None or idcc.zfill(4) in IDCC_WITHOUT_AGREEMENT:
            return None
        convention = self.convention(idcc)
        return convention.opco if convention else None
