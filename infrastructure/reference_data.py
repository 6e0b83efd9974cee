"""Reference data shipped with the package: the IDCC → OPCO correspondence table."""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources

from domain.opcos import IdccRouting, Opco

# Names as written in the source table (mission-apprentissage/contrat, shared/constants/opcos.ts).
_SOURCE_NAMES = {
    "AFDAS": Opco.AFDAS,
    "AKTO": Opco.AKTO,
    "ATLAS": Opco.ATLAS,
    "OCAPIAT": Opco.OCAPIAT,
    "OPCO 2i": Opco.OPCO2I,
    "OPCO Cohésion sociale": Opco.COHESION_SOCIALE,
    "OPCO Commerce": Opco.OPCOMMERCE,
    "OPCO Construction": Opco.CONSTRUCTYS,
    "OPCO EP": Opco.OPCOEP,
    "OPCO Mobilité": Opco.MOBILITES,
    "OPCO Santé": Opco.SANTE,
}


@cache
def idcc_routing() -> IdccRouting:
    text = resources.files("infrastructure").joinpath("data/idcc_opco.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return IdccRouting({row["idcc"].zfill(4): _SOURCE_NAMES[row["opco"]] for row in rows})
