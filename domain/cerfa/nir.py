"""What a NIR says about its holder, held against what the Cerfa says (sex, birth year, month and place).

The key is checked with the format (python-stdnum's ``fr.nir``); these are the consistency checks of the contract
app's ``common/nir.control.ts``, with the exceptions INSEE documents (xml.insee.fr/schema/nir.html;
service-public.fr F33078: "the département code is the one that existed at the time of birth"):

- digit 1 is the sex: 1, 3 or 7 for a man, 2, 4 or 8 for a woman (3/4 and 7/8 for provisional numbers);
- digits 2–3 are the last two digits of the birth year;
- digits 4–5 are the birth month, or a pseudo-month when it is unknown: 20, 30 to 42, 50 to 99;
- digits 6–7 are the birth département as it was then: 99 abroad (91–94 Algeria, 95 Morocco, 96 Tunisia for a
  birth before their independence, all before 1963); 20 in Corsica before 1976; 75 (Seine) or 78 (Seine-et-Oise)
  in what became 75, 78, 91–95 in 1968; 97 or 98 followed by a third digit overseas (Mayotte was 985 until 2011).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Final

from domain.cerfa.departements import ABROAD, MAYOTTE
from domain.problems import Problem

SEX_DIGITS: Final = {"M": "137", "F": "248"}
PSEUDO_MONTHS: Final = frozenset({20, *range(30, 43), *range(50, 100)})
NORTH_AFRICA_BEFORE_INDEPENDENCE: Final = frozenset({"91", "92", "93", "94", "95", "96"})
INDEPENDENCES_BY: Final = 1963
CORSICA_SPLIT: Final = 1976
ILE_DE_FRANCE_SPLIT: Final = 1968
SEINE_AND_SEINE_ET_OISE: Final = frozenset({"75", "78"})
FORMERLY_SEINE_OR_SEINE_ET_OISE: Final = frozenset({"75", "78", "91", "92", "93", "94", "95"})


def nir_problems(
    block: str, nir: str, *, birth: date | None, sexe: str | None = None, departement: str | None = None
) -> Iterator[Problem]:
    """The NIR of `block` (``apprenti``, ``maitre1``…) against its holder's sex, birth date and département."""
    field = f"cerfa.{block}.nir"
    yield from _sex(field, nir[0], sexe)
    if birth is not None and nir[1:3] != f"{birth.year % 100:02d}":
        yield Problem(
            field,
            "nir_birth_year",
            f"digits 2–3 of the NIR ({nir[1:3]}) are not the last two digits of the birth year ({birth.year})",
        )
    yield from _month(field, int(nir[3:5]), birth)
    if departement is not None and not _same_place(nir[5:8], departement, birth):
        yield Problem(
            field,
            "nir_birth_departement",
            f"digits 6–7 of the NIR ({nir[5:7]}) do not match the birth département {departement} "
            "(99 for a birth abroad; the code in force at the birth is accepted: 20 for Corsica before 1976, "
            "75 or 78 for Île-de-France before 1968)",
        )


def _sex(field: str, digit: str, sexe: str | None) -> Iterator[Problem]:
    if digit not in "123478":
        yield Problem(field, "nir_sex", f"a NIR starts with 1, 3 or 7 (man) or 2, 4 or 8 (woman), not {digit}")
    elif sexe in SEX_DIGITS and digit not in SEX_DIGITS[sexe]:
        expected = " or ".join(SEX_DIGITS[sexe])
        yield Problem(field, "nir_sex", f"the NIR starts with {digit}; for sex {sexe} it starts with {expected}")


def _month(field: str, month: int, birth: date | None) -> Iterator[Problem]:
    if 1 <= month <= 12:
        if birth is not None and month != birth.month:
            yield Problem(
                field,
                "nir_birth_month",
                f"digits 4–5 of the NIR ({month:02d}) are not the birth month ({birth.month:02d})",
            )
    elif month not in PSEUDO_MONTHS:
        yield Problem(
            field,
            "nir_birth_month",
            f"digits 4–5 of the NIR ({month:02d}) are neither a month (01–12) nor one of INSEE's codes for an "
            "unknown month (20, 30–42, 50–99)",
        )


def _same_place(place: str, departement: str, birth: date | None) -> bool:
    """`place` is digits 6–8 of the NIR; a missing birth date lets every dated exception through."""
    code = place[:2]

    def before(year: int) -> bool:
        return birth is None or birth.year < year

    if len(departement) == 3:  # overseas: 97x / 98x, the third digit taking the commune's first place
        return code == departement[:2] or (departement == MAYOTTE and place == "985" and before(2012))
    if departement == ABROAD:
        return code == ABROAD or (code in NORTH_AFRICA_BEFORE_INDEPENDENCE and before(INDEPENDENCES_BY))
    if code == departement:
        return True
    if departement in {"2A", "2B"}:
        return code == "20" and before(CORSICA_SPLIT)
    return (
        departement in FORMERLY_SEINE_OR_SEINE_ET_OISE
        and code in SEINE_AND_SEINE_ET_OISE
        and before(ILE_DE_FRANCE_SPLIT)
    )
