"""The IDCC reference table as shipped, and the problems an employer's IDCC raises against it."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from domain.cerfa import Cerfa
from domain.contracts.idcc_problems import idcc_problems
from domain.opco.opcos import ConventionStatus, Opco, opco_from_name
from domain.problems import Problem
from infrastructure.reference_data import COLUMNS, idcc_routing, table_metadata

ROUTING = idcc_routing()
EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
COMPLETE: dict[str, Any] = json.loads((EXAMPLES / "cerfa-complete.json").read_text(encoding="utf-8"))


def cerfa(idcc: str, concluded: str | None = "2026-07-10") -> Cerfa:
    document = copy.deepcopy(COMPLETE)
    document["employeur"]["codeIdcc"] = idcc
    if concluded is None:
        del document["contrat"]["dateConclusion"]
    else:
        document["contrat"]["dateConclusion"] = concluded
    return Cerfa.model_validate(document)


def problems(idcc: str, chosen: Opco | None = None, concluded: str | None = "2026-07-10") -> list[Problem]:
    return idcc_problems(cerfa(idcc, concluded), chosen, ROUTING)


def rows() -> list[dict[str, str]]:
    text = resources.files("infrastructure").joinpath("data/idcc_opco.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


# -- the table ----------------------------------------------------------------------------------------------------


def test_the_table_loads_with_its_date_and_every_row_names_its_source() -> None:
    table = rows()
    assert tuple(table[0]) == COLUMNS
    assert len(ROUTING) == len(table) > 700
    assert ROUTING.as_of == table_metadata()["as_of"]
    sources = set(table_metadata()["sources"])
    for row in table:
        named = {key.split(":")[0] for key in (row["opco_source"], *row["status_source"].split(";")) if key}
        assert named, row
        assert named <= sources, row
        assert bool(row["opco"]) == bool(row["opco_source"]), row


@pytest.mark.parametrize(
    ("idcc", "opco"),
    [
        ("3248", Opco.OPCO2I),  # the national metallurgy agreement, in force since 2024-01-01
        ("1486", Opco.ATLAS),  # Syntec
        ("1979", Opco.AKTO),  # hôtels, cafés, restaurants
        ("843", Opco.OPCOEP),  # boulangerie-pâtisserie artisanale
        ("2216", Opco.OPCOMMERCE),  # commerce à prédominance alimentaire
        ("0016", Opco.MOBILITES),  # transports routiers
        ("1597", Opco.CONSTRUCTYS),  # bâtiment ouvriers
        ("2264", Opco.SANTE),  # hospitalisation privée
        ("2941", Opco.COHESION_SOCIALE),  # aide à domicile
        ("7501", Opco.OCAPIAT),  # crédit agricole
        ("2511", Opco.AFDAS),  # sport
        ("44", Opco.OPCO2I),  # industries chimiques
    ],
)
def test_well_known_agreements_route_to_their_opco(idcc: str, opco: Opco) -> None:
    assert ROUTING.opco_for(idcc) is opco


def test_the_metallurgy_agreements_replaced_by_3248_are_marked_so() -> None:
    for idcc in ("0054", "0650", "1635", "2542", "2579", "1578", "3231"):
        convention = ROUTING.convention(idcc)
        assert convention is not None
        assert (convention.status, convention.ended_on, convention.replaced_by) == (
            ConventionStatus.ABROGATED,
            date(2024, 1, 1),
            "3248",
        )
    in_force = ROUTING.convention("3248")
    assert in_force is not None
    assert in_force.status is ConventionStatus.IN_FORCE
    overseas = ROUTING.convention("1060")  # Martinique: outside the national agreement's territorial scope
    assert overseas is not None
    assert overseas.status is ConventionStatus.UNKNOWN


# -- the problems -----------------------------------------------------------------------------------------------


def test_an_agreement_in_force_with_an_opco_raises_nothing() -> None:
    assert problems("3248") == []
    assert problems("1486") == []


def test_an_unknown_idcc_is_its_own_problem_even_with_a_chosen_opco() -> None:
    for chosen in (None, Opco.AKTO):
        [problem] = problems("9997", chosen)
        assert (problem.field, problem.code) == ("cerfa.employeur.codeIdcc", "idcc_unknown")
        assert problem.message.startswith("IDCC 9997 is not a known convention collective")


def test_an_abrogated_idcc_names_its_date_and_its_replacement() -> None:
    [problem] = problems("650", Opco.OPCO2I, concluded="2025-03-01")
    assert (problem.field, problem.code) == ("cerfa.employeur.codeIdcc", "idcc_abrogated")
    assert problem.message.startswith(
        "IDCC 0650 (Métallurgie : ingénieurs et cadres) was abrogated on 2024-01-01; "
        "the agreement 3248 (Métallurgie) replaces it"
    )


def test_an_agreement_abrogated_after_the_conclusion_still_applied_to_the_contract() -> None:
    assert problems("650", Opco.OPCO2I, concluded="2023-12-31") == []
    [problem] = problems("650", concluded="2023-12-31")
    assert problem.code == "opco_required"  # it applied, but the table names no OPCO for it


def test_an_abrogation_without_a_known_date_applies_whatever_the_date() -> None:
    [problem] = problems("0412", concluded="2010-01-01")
    assert problem.code == "idcc_abrogated"
    assert "is no longer in force; the agreement 3245 (Opérateurs de voyages et guides) replaces it" in problem.message


def test_without_a_conclusion_date_the_start_date_decides() -> None:
    assert problems("650", Opco.OPCO2I, concluded=None)[0].code == "idcc_abrogated"  # starts 2026-09-01


def test_the_special_codes_ask_for_an_opco_with_their_meaning() -> None:
    [none] = problems("9999")
    assert none.code == "opco_required"
    assert "applies no collective agreement" in none.message
    [pending] = problems("9998")
    assert pending.code == "opco_required"
    assert "not in force yet" in pending.message
    assert problems("9999", Opco.AKTO) == []
    assert problems("9998", Opco.AKTO) == []


def test_a_known_agreement_without_opco_asks_for_one_naming_it() -> None:
    [problem] = problems("3251")
    assert problem.code == "opco_required"
    assert problem.message.startswith("IDCC 3251 (Bijouterie, joaillerie, orfèvrerie, horlogerie (BJOH)) has no OPCO")
    assert problems("3251", Opco.OPCO2I) == []


@pytest.mark.parametrize(
    ("name", "opco"),
    [
        ("OPCO2I", Opco.OPCO2I),  # France compétences (SIRO)
        ("L'OPCOMMERCE", Opco.OPCOMMERCE),
        ("UNIFORMATION COHESION SOCIALE", Opco.COHESION_SOCIALE),
        ("OPCO MOBILITES", Opco.MOBILITES),
        ("OPCO SANTE", Opco.SANTE),
        ("OPCO EP", Opco.OPCOEP),
        ("AKTO / Opco entreprises et salariés des services à forte intensité de main d'oeuvre", Opco.AKTO),  # CFA Dock
        ("Opco entreprises de proximité", Opco.OPCOEP),
        ("Uniformation, l'Opco de la Cohésion sociale", Opco.COHESION_SOCIALE),
        ("OPCO Construction", Opco.CONSTRUCTYS),  # the 2019 table
        ("OPCO entreprises et salariés des services à forte intensité de main-d'œuvre", Opco.AKTO),
        ("OPCO ATLAS", Opco.ATLAS),
        ("Opco multiple", None),
        ("", None),
    ],
)
def test_the_sources_names_of_the_opcos_are_read(name: str, opco: Opco | None) -> None:
    assert opco_from_name(name) is opco
