"""The NIR held against the sex, birth date and birth département of its holder (common/nir.control.ts)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.cerfa import Cerfa, check_cerfa
from tests.unit.domain.cerfa_support import COMPLETE, cerfa_with, fields_with, found, message_of, nir_of

LEA = date(2007, 3, 14)  # the apprentice of the complete example, born in Villeurbanne (69)


def test_the_example_nir_is_the_one_computed_from_the_apprentice() -> None:
    assert nir_of("2", LEA) == COMPLETE["apprenti"]["nir"]


@pytest.mark.parametrize(
    ("sexe", "digit", "blocked"),
    [
        ("F", "2", False),
        ("F", "4", False),  # provisional numbers
        ("F", "8", False),
        ("F", "1", True),
        ("F", "7", True),
        ("M", "1", False),
        ("M", "3", False),
        ("M", "7", False),
        ("M", "2", True),
        ("M", "8", True),
    ],
)
def test_the_first_digit_is_the_sex(sexe: str, digit: str, blocked: bool) -> None:
    changes = {"apprenti.sexe": sexe, "apprenti.nir": nir_of(digit, LEA)}
    assert fields_with("nir_sex", changes) == (["cerfa.apprenti.nir"] if blocked else [])


@pytest.mark.parametrize("digit", ["0", "5", "6", "9"])
def test_a_first_digit_that_is_no_sex_is_refused_even_without_the_sex(digit: str) -> None:
    changes: dict[str, Any] = {"apprenti.nir": nir_of(digit, LEA)}
    assert fields_with("nir_sex", changes) == ["cerfa.apprenti.nir"]
    assert "starts with 1, 3 or 7 (man) or 2, 4 or 8 (woman)" in message_of("nir_sex", changes)


def test_digits_2_and_3_are_the_birth_year() -> None:
    assert found({"apprenti.nir": nir_of("2", date(2008, 3, 14))}) == {("cerfa.apprenti.nir", "nir_birth_year")}
    assert message_of("nir_birth_year", {"apprenti.nir": nir_of("2", date(2008, 3, 14))}) == (
        "digits 2–3 of the NIR (08) are not the last two digits of the birth year (2007)"
    )


def test_digits_4_and_5_are_the_birth_month() -> None:
    assert found({"apprenti.nir": nir_of("2", date(2007, 4, 14))}) == {("cerfa.apprenti.nir", "nir_birth_month")}
    assert found({"apprenti.nir": nir_of("2", date(2007, 2, 14))}) == {("cerfa.apprenti.nir", "nir_birth_month")}


@pytest.mark.parametrize(
    ("month", "blocked"),
    [
        *[(month, False) for month in ("20", "30", "42", "50", "99")],
        *[(month, True) for month in ("00", "13", "19", "21", "29", "43", "49")],
    ],
)
def test_insee_pseudo_months_stand_for_an_unknown_month(month: str, blocked: bool) -> None:
    changes = {"apprenti.nir": nir_of("2", LEA, month=month)}
    assert fields_with("nir_birth_month", changes) == (["cerfa.apprenti.nir"] if blocked else [])


def test_digits_6_and_7_are_the_birth_departement() -> None:
    assert found({"apprenti.nir": nir_of("2", LEA, place="38185")}) == {("cerfa.apprenti.nir", "nir_birth_departement")}
    assert found({"apprenti.nir": nir_of("2", LEA, place="38185"), "apprenti.departementNaissance": "38"}) == set()


def _born_in(departement: str, birth: str, place: str, abroad: bool = False) -> dict[str, Any]:
    day = date.fromisoformat(birth)
    return {
        "apprenti.dateNaissance": birth,
        "apprenti.departementNaissance": departement,
        "apprenti.lieuNaissanceFrance": not abroad,
        "apprenti.nir": nir_of("2", day, place=place),
        "apprenti.handicap": True,  # no age limit: the older apprentices of these cases stay eligible
    }


@pytest.mark.parametrize(
    ("departement", "birth", "place", "blocked"),
    [
        ("2A", "2007-03-14", "2A004", False),  # Ajaccio
        ("2B", "2007-03-14", "2B033", False),  # Bastia
        ("2A", "2007-03-14", "2B033", True),
        ("2A", "1975-12-31", "20004", False),  # Corsica was 20 before 1976
        ("2A", "1976-01-01", "20004", True),
        ("971", "2007-03-14", "97105", False),  # Basse-Terre
        ("974", "2007-03-14", "97411", False),  # Saint-Denis (La Réunion)
        ("974", "2007-03-14", "69266", True),
        ("976", "2007-03-14", "97611", False),  # Mamoudzou
        ("976", "2007-03-14", "98511", False),  # Mayotte was 985 until 2011
        ("976", "2012-03-14", "98511", True),
        ("988", "2007-03-14", "98818", False),  # Nouméa
        ("92", "1967-12-31", "75012", False),  # Boulogne was in the Seine before 1968
        ("95", "1967-12-31", "78001", False),  # and Argenteuil in Seine-et-Oise
        ("92", "1968-01-01", "75012", True),
        ("92", "2007-03-14", "92012", False),
    ],
)
def test_the_departement_of_the_birth_with_insee_exceptions(
    departement: str, birth: str, place: str, blocked: bool
) -> None:
    changes = _born_in(departement, birth, place)
    assert fields_with("nir_birth_departement", changes) == (["cerfa.apprenti.nir"] if blocked else [])


@pytest.mark.parametrize(
    ("birth", "place", "blocked"),
    [
        ("2007-03-14", "99134", False),  # Spain
        ("2007-03-14", "69266", True),
        ("1962-06-30", "91352", False),  # Algeria before its independence
        ("1956-03-01", "95001", False),  # Morocco
        ("1956-03-01", "96001", False),  # Tunisia
        ("1963-01-01", "91352", True),
    ],
)
def test_a_birth_abroad_is_99_or_a_north_african_code_before_independence(
    birth: str, place: str, blocked: bool
) -> None:
    changes = _born_in("99", birth, place, abroad=True)
    assert fields_with("nir_birth_departement", changes) == (["cerfa.apprenti.nir"] if blocked else [])


def test_without_a_birth_departement_the_place_is_not_compared() -> None:
    document = cerfa_with({"apprenti.nir": nir_of("2", LEA, place="38185")}).to_document()
    del document["apprenti"]["departementNaissance"]
    problems = {(p.field, p.code) for p in check_cerfa(Cerfa.model_validate(document))}
    assert problems == {("cerfa.apprenti.departementNaissance", "required")}


@pytest.mark.parametrize("key", ["maitre1", "maitre2"])
def test_a_masters_nir_agrees_with_their_birth_date(key: str) -> None:
    maitre = dict(COMPLETE["maitre1"])
    born = date(1986, 5, 22)
    assert found({key: {**maitre, "nir": nir_of("1", born, place="75111")}}) == set()
    assert found({key: {**maitre, "nir": nir_of("1", date(1985, 5, 22), place="75111")}}) == {
        (f"cerfa.{key}.nir", "nir_birth_year")
    }
    assert found({key: {**maitre, "nir": nir_of("1", date(1986, 6, 22), place="75111")}}) == {
        (f"cerfa.{key}.nir", "nir_birth_month")
    }
    assert found({key: {**maitre, "nir": nir_of("5", born, place="75111")}}) == {(f"cerfa.{key}.nir", "nir_sex")}
