"""A lookup of the employer's OPCO by its SIRET, as a dossier records it (event OpcoLookedUp).

The lookup asks a public directory which OPCO an establishment belongs to. Where it answers with one OPCO for
the SIRET the Cerfa names, that answer decides the dossier's OPCO over the IDCC table (an explicit choice by the
CFA still wins); where it cannot be made, the table's answer stands and the dossier says so."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from domain.opco.opcos import Opco


class LookupOutcome(StrEnum):
    FOUND = "found"  # one OPCO for this SIRET
    NOT_FOUND = "not_found"  # the directory does not know the SIRET
    MULTIPLE = "multiple"  # the directory knows several OPCOs for it
    UNAVAILABLE = "unavailable"  # the lookup could not be made (service down, timeout, unreadable answer)


# What OpcoLookedUp records: the SIRET asked, the outcome, the OPCO (a code of domain.opco.opcos.Opco) and the IDCC
# the directory gave, the OPCO's name as it wrote it, which directory answered, and when (ISO 8601).
LOOKUP_FIELDS = ("siret", "outcome", "opco", "idcc", "opco_name", "source", "checked_at")


def employer_siret(document: Mapping[str, Any]) -> str | None:
    employer = document.get("employeur") or {}
    siret = employer.get("siret")
    return str(siret) if siret else None


def applies(lookup: Mapping[str, Any] | None, document: Mapping[str, Any]) -> bool:
    """A lookup speaks for the dossier only while the Cerfa names the SIRET it was made for."""
    return lookup is not None and lookup["siret"] == employer_siret(document)


def looked_up_opco(lookup: Mapping[str, Any] | None, document: Mapping[str, Any]) -> Opco | None:
    if lookup is None or not applies(lookup, document) or lookup["outcome"] != LookupOutcome.FOUND:
        return None
    return Opco(lookup["opco"]) if lookup["opco"] else None
