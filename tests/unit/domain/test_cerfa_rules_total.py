"""The completeness rules and the people, training and pay rules answer every Cerfa the format accepts: any dates
(year 1 to 9999, in any order), any answer or none to each box, any NIR with a valid key."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.fr import nir as stdnum_nir

from domain.cerfa import Cerfa, rules_pay, rules_people, rules_training
from domain.cerfa.departements import BIRTH_DEPARTEMENTS
from domain.cerfa.required import missing_fields
from domain.problems import Problem
from tests.unit.domain.cerfa_support import COMPLETE

EDGES = [date.min, date(1, 12, 31), date(9979, 2, 28), date(9998, 12, 31), date.max]
DATES = st.one_of(st.none(), st.sampled_from(EDGES), st.dates(), st.dates(date(1990, 1, 1), date(2035, 12, 31)))
BOXES = st.one_of(st.none(), st.booleans())
DATE_FIELDS = {
    "apprenti": ["dateNaissance"],
    "maitre1": ["dateNaissance"],
    "formation": ["dateDebutFormation", "dateFinFormation"],
    "contrat": [
        "dateConclusion",
        "dateDebutContrat",
        "dateDebutFormationPratique",
        "dateFinContrat",
        "dateEffetAvenant",
    ],
}
BOX_FIELDS = {
    "apprenti": ["lieuNaissanceFrance", "handicap", "inscriptionSportifDeHautNiveau", "apprentiMineur",
                 "apprentiMineurNonEmancipe"],
    "employeur": ["privePublic", "attestationPieces", "attestationEligibilite"],
    "maitre1": ["attestationEligibilite"],
    "contrat": ["avantageNature", "autreAvantageEnNature"],
    "etablissementFormation": ["memeResponsable"],
}  # fmt: skip


@st.composite
def nirs(draw: st.DrawFn) -> str:
    body = draw(st.from_regex(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{6}", fullmatch=True))
    return body + stdnum_nir.calc_check_digits(body)


@st.composite
def cerfas(draw: st.DrawFn) -> Cerfa:
    document: dict[str, Any] = copy.deepcopy(COMPLETE)
    for block, names in DATE_FIELDS.items():
        for name in names:
            document[block][name] = draw(DATES)
    for block, names in BOX_FIELDS.items():
        for name in names:
            document[block][name] = draw(BOXES)
    apprenti, contrat = document["apprenti"], document["contrat"]
    apprenti["nir"] = draw(st.one_of(st.none(), nirs()))
    document["maitre1"]["nir"] = draw(st.one_of(st.none(), nirs()))
    apprenti["sexe"] = draw(st.sampled_from([None, "M", "F"]))
    apprenti["departementNaissance"] = draw(st.one_of(st.none(), st.sampled_from(sorted(BIRTH_DEPARTEMENTS))))
    apprenti["derniereClasse"] = draw(st.sampled_from([None, "01", "40", "41", "42"]))
    apprenti["situationAvantContrat"] = draw(st.sampled_from([None, 1, 7, 8]))
    contrat["typeContratApp"] = draw(st.sampled_from([None, 11, 21, 22, 23, 31, 33, 36, 38]))
    contrat["typeDerogation"] = draw(st.sampled_from([None, 11, 12, 21, 22, 50, 60]))
    contrat["smc"] = draw(st.sampled_from([None, "0", "1400.00", "1845.00", "99999.99"]))
    document["employeur"]["codeIdcc"] = draw(st.sampled_from(["1486", "9999"]))
    document["employeur"]["adresse"]["codePostal"] = draw(st.sampled_from(["69002", "97600"]))
    for period in contrat["remunerationsAnnuelles"]:
        period["dateFin"] = draw(DATES)
        period["typeSalaire"] = draw(st.sampled_from([None, "SMIC", "SMC"]))
    return Cerfa.model_validate(document)


@settings(max_examples=200, deadline=None, database=None)
@given(cerfas())
def test_the_new_rules_never_raise(cerfa: Cerfa) -> None:
    problems: list[Problem] = missing_fields(cerfa)
    for rule in (*rules_people.RULES, *rules_training.RULES, *rules_pay.RULES):
        problems.extend(rule(cerfa))
    assert all(problem.field.startswith("cerfa.") for problem in problems)
