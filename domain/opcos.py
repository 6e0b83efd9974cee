"""The eleven OPCOs, by stable code, and the routing of an employer's collective agreement (IDCC) to one."""

from __future__ import annotations

from collections.abc import Mapping
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

# IDCC codes that name no collective agreement: the OPCO must be chosen by the user.
IDCC_WITHOUT_AGREEMENT = frozenset({"9999", "9998"})


class IdccRouting:
    """IDCC → competent OPCO, from France compétences' correspondence as published (loaded by infrastructure)."""

    def __init__(self, table: Mapping[str, Opco]) -> None:
        self._table = dict(table)

    def __len__(self) -> int:
        return len(self._table)

    def opco_for(self, idcc: str | None) -> Opco | None:
        if idcc is None or idcc in IDCC_WITHOUT_AGREEMENT:
            return None
        return self._table.get(idcc.zfill(4))
