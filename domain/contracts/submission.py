"""Everything that blocks a submission: the Cerfa's own rules, plus the OPCO routing and the employer's mandate."""

from __future__ import annotations

from domain.cerfa import Cerfa, check_cerfa
from domain.contracts.cerfa_document import employer_type
from domain.contracts.idcc_problems import idcc_problems
from domain.opco.opcos import IdccRouting, Opco
from domain.problems import Problem

PUBLIC_EMPLOYER_TYPES = range(21, 30)


def submission_problems(
    cerfa: Cerfa, *, chosen_opco: Opco | None, routing: IdccRouting, has_mandate: bool
) -> list[Problem]:
    problems = check_cerfa(cerfa)
    problems.extend(_employer_problems(cerfa))
    problems.extend(idcc_problems(cerfa, chosen_opco, routing))
    if not has_mandate:
        problems.append(
            Problem(
                "mandate",
                "mandate_missing",
                "no employer mandate recorded: without it the CFA may not file the contract for the employer",
            )
        )
    return problems


def _employer_problems(cerfa: Cerfa) -> list[Problem]:
    kind = employer_type(cerfa)
    if kind in PUBLIC_EMPLOYER_TYPES:
        return [
            Problem(
                "cerfa.employeur.typeEmployeur",
                "public_employer",
                f"employer type {kind} is a public employer: its contracts are filed with the "
                "DDETS through CELIA, not with an OPCO",
            )
        ]
    return []
