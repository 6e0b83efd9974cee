"""What the employer's IDCC says about the dossier: an unknown code, an agreement no longer in force, or an
agreement the reference routes to no OPCO. Each is its own problem, so the CFA knows what to correct."""

from __future__ import annotations

from datetime import date

from domain.cerfa import Cerfa
from domain.contracts.cerfa_document import employer_idcc
from domain.opco.opcos import NO_AGREEMENT, NOT_YET_IN_FORCE, Convention, IdccRouting, Opco
from domain.problems import Problem

IDCC_FIELD = "cerfa.employeur.codeIdcc"


def idcc_problems(cerfa: Cerfa, chosen: Opco | None, routing: IdccRouting) -> list[Problem]:
    """`chosen`: the OPCO decided otherwise than by the table (the CFA's choice, or the lookup by SIRET)."""
    idcc = employer_idcc(cerfa)
    if idcc is None:
        return []  # a missing IDCC is already reported as required
    if idcc in (NO_AGREEMENT, NOT_YET_IN_FORCE):
        return [] if chosen else [_opco_required(_special_reason(idcc))]
    convention = routing.convention(idcc)
    if convention is None:
        return [_unknown(idcc, routing)]
    if convention.abrogated_on(_reference_day(cerfa)):
        return [_abrogated(convention, routing)]
    if chosen is None and convention.opco is None:
        return [_opco_required(f"IDCC {idcc} ({_label(convention)}) has no OPCO in the IDCC → OPCO table")]
    return []


def _reference_day(cerfa: Cerfa) -> date | None:
    """The agreement that matters is the one in force when the contract was concluded (else when it starts)."""
    contrat = cerfa.contrat
    if contrat is None:
        return None
    return contrat.dateConclusion or contrat.dateDebutContrat


def _special_reason(idcc: str) -> str:
    if idcc == NO_AGREEMENT:
        return "IDCC 9999 means the employer applies no collective agreement: its OPCO follows from its main activity"
    return "IDCC 9998 means the employer's agreement is not in force yet: its OPCO is that of its branch"


def _unknown(idcc: str, routing: IdccRouting) -> Problem:
    reference = f" (reference of {routing.as_of})" if routing.as_of else ""
    return Problem(
        IDCC_FIELD,
        "idcc_unknown",
        f"IDCC {idcc} is not a known convention collective{reference}: check the employer's IDCC "
        "(an agreement not yet in force is declared as 9998, no agreement as 9999)",
    )


def _abrogated(convention: Convention, routing: IdccRouting) -> Problem:
    when = f"was abrogated on {convention.ended_on.isoformat()}" if convention.ended_on else "is no longer in force"
    message = f"IDCC {convention.idcc} ({_label(convention)}) {when}"
    replacement = routing.convention(convention.replaced_by) if convention.replaced_by else None
    if replacement is not None:
        message += f"; the agreement {replacement.idcc} ({_label(replacement)}) replaces it"
    return Problem(IDCC_FIELD, "idcc_abrogated", f"{message}: give the employer's current IDCC")


def _opco_required(reason: str) -> Problem:
    return Problem("opco", "opco_required", f"{reason}: choose the competent OPCO for this dossier")


def _label(convention: Convention) -> str:
    return convention.label or "no label in the reference"
