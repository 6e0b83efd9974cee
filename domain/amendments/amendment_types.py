"""The kinds of avenant (typeContratApp 31–38) and what each may change in the Cerfa, with the checks an amendment
request must pass. Pure: no I/O.

The codes and their labels are the Cerfa FA13's notice (10103*14, "Type de contrat ou d'avenant"), as the State's
contract app lists them (MA-CONTRAT `getTypeContratApprentiOptions.ts`, opco-wire.md §2.4). The notice names what
each avenant is about, not a list of fields: the lists below are read from those labels, one place, documented in
docs/amendments.md. A change outside its type's list is refused (422 `field_not_amendable`): it needs another type
of avenant, or a new contract."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import InvalidValues
from domain.problems import Problem

# Set by the amendment itself, never by its `changes`: the avenant's type, the DECA number it amends, its dates.
SET_BY_AMENDMENT = (
    "contrat.typeContratApp",
    "contrat.numeroContratPrecedent",
    "contrat.noContrat",
    "contrat.noAvenant",
    "contrat.dateEffetAvenant",
    "contrat.dateRupture",
    "contrat.dateConclusion",  # picks the funding regime: the initial contract's, whatever its avenants
    "contrat.dateDebutContrat",
    "organismeFormation",  # the dossier belongs to its CFA (tenancy): another CFA files its own contract
)

_EMPLOYER = ("employeur", "maitre1", "maitre2")
_TERM = (
    "contrat.dateFinContrat",
    "contrat.remunerationsAnnuelles",
    "contrat.salaireEmbauche",
    "contrat.smc",
    "formation.dateFinFormation",
    "formation.dureeFormation",
)
_WORKPLACE = (
    "employeur.siret",
    "employeur.adresse",
    "employeur.naf",
    "employeur.nombreDeSalaries",
    "employeur.codeIdcc",
    "employeur.libelleIdcc",
    "employeur.telephone",
    "employeur.courriel",
    "maitre1",
    "maitre2",
)


@dataclass(frozen=True, slots=True)
class AmendmentType:
    code: int
    label: str
    fields: tuple[str, ...]  # dotted prefixes of what it may change
    effect_date: bool  # dateEffetAvenant asked (31–37; not 38: MA-CONTRAT `shouldAskDateEffetAvenant.ts`)
    changes_funding: bool  # 33, 34, 35 always; 36 when the contract's duration changes (amendment_funding)
    may_change_employer: bool  # the employer's SIRET or IDCC may change: maybe another OPCO


AMENDMENT_TYPES: dict[int, AmendmentType] = {
    t.code: t
    for t in (
        AmendmentType(31, "modification de la situation juridique de l'employeur", _EMPLOYER, True, False, True),
        AmendmentType(
            32,
            "changement d'employeur dans le cadre d'un contrat saisonnier",
            (
                *_EMPLOYER,
                "contrat.dureeTravailHebdoHeures",
                "contrat.dureeTravailHebdoMinutes",
                "contrat.travailRisque",
            ),
            True,
            False,
            True,
        ),
        AmendmentType(33, "prolongation suite à un échec à l'examen", _TERM, True, True, False),
        AmendmentType(
            34,
            "prolongation suite à la reconnaissance de la qualité de travailleur handicapé",
            (*_TERM, "apprenti.handicap", "formation.nombreHeuresEnDistanciel"),
            True,
            True,
            False,
        ),
        AmendmentType(
            35,
            "modification du diplôme préparé par l'apprenti",
            ("formation", "apprenti.diplomePrepare", "apprenti.intituleDiplomePrepare", *_TERM),
            True,
            True,
            False,
        ),
        AmendmentType(
            36,
            "autres changements : maître d'apprentissage, durée du travail, réduction de durée, rémunération…",
            (
                "maitre1",
                "maitre2",
                "contrat.dureeTravailHebdoHeures",
                "contrat.dureeTravailHebdoMinutes",
                "contrat.travailRisque",
                "contrat.avantageNature",
                "contrat.avantageNourriture",
                "contrat.avantageLogement",
                "contrat.autreAvantageEnNature",
                "contrat.remunerationMajoration",
                "apprenti.adresse",
                "apprenti.telephone",
                "apprenti.courriel",
                "apprenti.nomUsage",
                "apprenti.responsableLegal",
                *_TERM,
            ),
            True,
            False,  # only when the duration changes: see amendment_funding.changes_funding
            False,
        ),
        AmendmentType(37, "modification du lieu d'exécution du contrat", _WORKPLACE, True, False, True),
        AmendmentType(
            38,
            "modification du lieu principal de réalisation de la formation théorique",
            ("etablissementFormation", "formation.nombreHeuresEnDistanciel"),
            False,
            False,
            False,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class AmendmentRequest:
    type_code: int | None
    effect_date: date | None
    changes: Mapping[str, Any]


def is_avenant(cerfa: Mapping[str, Any]) -> bool:
    """Whether a Cerfa (as a document) is an avenant's: typeContratApp 31–38."""
    contrat = cerfa.get("contrat")
    code = contrat.get("typeContratApp") if isinstance(contrat, Mapping) else None
    return str(code) in {str(c) for c in AMENDMENT_TYPES}


def changed_paths(patch: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """The dotted paths a merge patch sets or removes: objects are walked, arrays and scalars are leaves."""
    for key, value in patch.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from changed_paths(value, path + ".")  # an empty object changes nothing
        else:
            yield path


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def check_request(request: AmendmentRequest, start: date | None, end: date | None) -> AmendmentType:
    """The avenant's own rules; every broken one listed (422). `start`, `end`: the contract's, as in effect now."""
    problems: list[Problem] = []
    kind = AMENDMENT_TYPES.get(request.type_code) if request.type_code is not None else None
    if kind is None:
        problems.append(_problem("typeContratApp", "unknown_amendment_type", "an avenant's type is 31 to 38"))
    elif kind.effect_date and request.effect_date is None:
        problems.append(_problem("dateEffetAvenant", "required", f"an avenant of type {kind.code} needs its date"))
    elif kind.effect_date and request.effect_date and start and end and not start <= request.effect_date <= end:
        message = f"the avenant takes effect on {request.effect_date}, outside the contract ({start} to {end})"
        problems.append(_problem("dateEffetAvenant", "outside_contract", message))
    elif not kind.effect_date and request.effect_date is not None:
        message = "an avenant of type 38 has no effect date (the Cerfa does not ask it)"
        problems.append(_problem("dateEffetAvenant", "not_asked", message))
    paths = list(changed_paths(request.changes))
    if not paths:
        problems.append(_problem("changes", "no_changes", "an avenant changes at least one field of the Cerfa"))
    for path in paths:
        if _under(path, SET_BY_AMENDMENT):
            problems.append(_problem(f"changes.{path}", "set_by_amendment", f"{path} is not the avenant's to change"))
        elif kind is not None and not _under(path, kind.fields):
            message = f"an avenant of type {kind.code} ({kind.label}) may not change {path}"
            problems.append(_problem(f"changes.{path}", "field_not_amendable", message))
    if problems:
        raise InvalidValues(problems)
    assert kind is not None
    return kind


def _problem(field: str, code: str, message: str) -> Problem:
    return Problem(field, code, message)
