"""Hypothesis strategies for Cerfa documents and merge patches, generated from the real model.

The fields and their types are read from `domain.cerfa.model` (every block, every field, the pay periods), so a
field added there is generated too. Each format type has values its rule accepts, in all the forms it accepts
(codes as numbers or strings, any date of the calendar, any letters), and near misses; every field also gets
nulls, deletions and values of the wrong JSON type. A document is mostly one of the examples with a few such
changes, or a Cerfa written from scratch with accepted values, so that about half of them are accepted and the
consistency rules run on odd but valid documents.
"""

from __future__ import annotations

import copy
import itertools
import types
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Annotated, Any, Final, Union, get_args, get_origin

from hypothesis import strategies as st
from pydantic import BaseModel
from stdnum import luhn
from stdnum.fr import nir

from domain.cerfa import formats as f
from domain.cerfa.model import Cerfa
from tests.conftest import load_example

Path = tuple[str | int, ...]
DROP: Final = object()  # a mutation that removes the field
PERIODS_GENERATED: Final = 3  # pay periods whose fields are mutated one by one (the list itself up to 10)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2),  # lone surrogates: JSON, not Unicode
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _number_or_text(numbers: st.SearchStrategy[int]) -> st.SearchStrategy[int | str]:
    """Codes and counts are accepted as JSON numbers or numeric strings: both forms, and padded ones."""
    return st.one_of(numbers, numbers.map(str), numbers.map(lambda n: f" {n:03d}"))


def _codes(allowed: frozenset[int]) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
    return _number_or_text(st.sampled_from(sorted(allowed))), _number_or_text(st.integers(-3, 120))


def _bounded(low: int, high: int) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
    return _number_or_text(st.integers(low, high)), _number_or_text(st.integers(low - 10, high * 10))


def _regex(pattern: str, *known: str) -> st.SearchStrategy[str]:
    generated = st.from_regex(pattern, fullmatch=True)
    return st.one_of(st.sampled_from(known), generated) if known else generated


EXTREME_DATES: Final = (date.min, date.max, date(1, 12, 31), date(9999, 1, 1), date(2000, 2, 29), date(2028, 2, 29))
dates = st.one_of(
    st.dates(date(2019, 1, 1), date(2031, 12, 31)),  # around the examples' contract: every order of its dates
    st.dates(date(1900, 1, 1), date(2100, 12, 31)),
    st.dates(),
    st.sampled_from(EXTREME_DATES),
).map(date.isoformat)
amounts = st.one_of(
    st.decimals(min_value=0, max_value=100_000, places=2).map(str),
    st.integers(0, 10**6),
    st.sampled_from(["0", "0.10", "783.91", " 1823.03 ", "999999999999.99"]),
)
odd_numbers = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-5, 10**40),
    st.floats(),
    st.sampled_from(["1e3", "12.345", "-0.01", "1" * 40 + ".50", "", "NaN"]),
)
letters = st.text(st.characters(categories=["L"]), min_size=1, max_size=20)
names = st.lists(letters, min_size=1, max_size=4).flatmap(
    lambda words: st.sampled_from([" ", "-", "'", "’", "  "]).map(lambda sep: sep.join(words))
)
texts = st.one_of(
    st.text(min_size=1, max_size=80),
    st.builds("{}{}{}".format, st.text(max_size=5), st.sampled_from(["\x00", "\t", "\n", "\x1f", "\x7f"]), letters),
).map(lambda text: text if text.strip() else f"x{text}")
emails = st.builds(
    "{}@{}.{}".format,
    st.from_regex(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\.[a-z0-9_-]{1,10})?", fullmatch=True),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True),
    st.sampled_from(["fr", "com", "xn--p1ai", "museum"]),
)

# Format type (as declared in domain.cerfa.formats) → (values its rule accepts, values it may well refuse).
FORMATS: Final[list[tuple[Any, st.SearchStrategy[Any], st.SearchStrategy[Any]]]] = [
    (f.IsoDate, dates, st.sampled_from(["2026-02-30", "2026-13-01", "26-09-01", "2026-9-1", "0000-01-01", ""])),
    (f.Amount, amounts, odd_numbers),
    (f.Rate, st.one_of(amounts, st.decimals(min_value=0, max_value=150, places=2).map(str)), odd_numbers),
    (
        f.OuiNon,
        st.one_of(st.booleans(), st.sampled_from(["oui", "non", " Oui ", "TRUE", "false"])),
        st.sampled_from(["peut-être", "1", "0", "yes"]),
    ),
    (
        f.Siret,
        st.one_of(
            st.sampled_from(["84213657400022", "842 136 574 00022", "73282932000074"]),
            _regex(r"[0-9]{13}").map(lambda n: n + luhn.calc_check_digit(n)),
        ),
        _regex(r"[0-9 ]{12,16}"),
    ),
    (
        f.Uai,
        _regex(r"[0-9]{7}").map(lambda n: n + "ABCDEFGHJKLMNPRSTUVWXYZ"[int(n) % 23]),
        _regex(r"[0-9]{7}[A-Za-z]"),
    ),
    (
        f.Nir,
        _regex(r"[12][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}").map(lambda n: n + nir.calc_check_digits(n)),
        _regex(r"[0-9]{13,16}"),
    ),
    (f.Rncp, _regex(r"(RNCP|rncp |)[0-9]{2,5}", "RNCP35340"), _regex(r"(RNCP)?[0-9]{1,7}")),
    (f.CodeDiplome, _regex(r"[0-9A-Z]{8}[A-Z]?", "32032613"), _regex(r"[0-9A-Za-z]{6,10}")),
    (f.NumeroDeca, _regex(f._DECA.pattern), _regex(r"[0-9A-Z]{13,16}")),
    (f.CodePostal, _regex(r"[0-9]{5}", "97600", " 69002 "), _regex(r"[0-9]{4,6}")),
    (f.Email, emails, st.one_of(st.emails(), st.sampled_from(["nobody", "a@b", "x" * 70 + "@example.com"]))),
    (f.Telephone, _regex(r"(0|\+33 ?)[1-9]([ .]?[0-9]{2}){4}", "+262 262 12 34 56"), _regex(r"\+?[0-9]{8,12}")),
    (
        f.Idcc,
        _number_or_text(st.one_of(st.sampled_from([1486, 9999, 9998, 3248, 16]), st.integers(0, 9999))),
        _number_or_text(st.integers(-1, 99_999)),
    ),
    (f.Naf, _regex(r"[0-9]{2}\.?[0-9]{2}[A-Za-z]", "62.02A"), _regex(r"[0-9.]{4,6}[A-Z]?")),
    (
        f.DepartementNaissance,
        st.one_of(
            st.sampled_from(["2A", "2b", "971", 976, "978", "984", "99"]),
            _number_or_text(st.integers(0, 99)).map(lambda n: n if isinstance(n, int) else n.strip().zfill(2)),
        ),
        st.one_of(st.sampled_from(["975", "2C", "985", "100"]), _number_or_text(st.integers(100, 999))),
    ),
    (f.PersonName, names, st.one_of(st.text(max_size=90), st.sampled_from(["", "  ", "Jean2", "x" * 81]))),
    (f.Text, texts, st.one_of(st.text(min_size=256, max_size=300), st.sampled_from(["", "   "]))),
    (f.OrdrePeriode, _regex(r"[1-4]\.[12]"), _regex(r"[0-5]\.[0-3]")),
    (f.TypeEmployeur, *_codes(f.TYPES_EMPLOYEUR)),
    (f.EmployeurSpecifique, *_codes(f.EMPLOYEURS_SPECIFIQUES)),
    (f.TypeContratApp, *_codes(f.TYPES_CONTRAT_APPRENTISSAGE)),
    (f.TypeDerogation, *_codes(f.TYPES_DEROGATION)),
    (f.ModeContractuel, *_codes(f.MODES_CONTRACTUELS)),
    (f.Nationalite, *_codes(f.NATIONALITES)),
    (f.RegimeSocial, *_codes(f.REGIMES_SOCIAUX)),
    (f.SituationAvantContrat, *_codes(f.SITUATIONS_AVANT_CONTRAT)),
    (f.Diplome, *_codes(f.DIPLOMES)),
    (f.NiveauDiplome, *_codes(f.NIVEAUX_DIPLOME)),
    (f.RemunerationMajoration, *_codes(f.MAJORATIONS)),
    (
        f.DerniereClasse,
        st.one_of(st.sampled_from(sorted(f.DERNIERES_CLASSES)), st.sampled_from([1, 11, 42])),
        _number_or_text(st.integers(0, 50)),
    ),
    (f.Sexe, st.sampled_from(["M", "F", "m", " f"]), st.sampled_from(["X", "", "H"])),
    (f.TypeSalaire, st.sampled_from(["SMIC", "SMC", "smc", "Smic"]), st.sampled_from(["SMAG", ""])),
    (f.RepetitionVoie, st.sampled_from(["B", "T", "Q", "C", "b"]), st.sampled_from(["Z", "bis"])),
    (f.TrainingHours, *_bounded(1, 9999)),
    (f.DistanceHours, *_bounded(0, 9999)),
    (f.WeeklyHours, *_bounded(0, 99)),
    (f.Minutes, *_bounded(0, 59)),
    (f.Headcount, *_bounded(0, 9_999_999)),
    (f.NumeroVoie, *_bounded(0, 99_999)),
]


def _declared(annotation: Any) -> Any:
    """`X | None` → X (the Cerfa's fields are all optional)."""
    if get_origin(annotation) in (Union, types.UnionType):
        (declared,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        return declared
    return annotation


def _block_of(declared: Any) -> type[BaseModel] | None:
    return declared if isinstance(declared, type) and issubclass(declared, BaseModel) else None


def _item_block(declared: Any) -> type[BaseModel] | None:
    return _block_of(get_args(declared)[0]) if get_origin(declared) is list else None


def field_values(declared: Any, accepted: bool = True) -> st.SearchStrategy[Any]:
    """Values for one field of type `declared`: those its format accepts, or (not `accepted`) its near misses
    as well; a whole block, a list of blocks; any JSON for a type not listed."""
    block, item = _block_of(declared), _item_block(declared)
    if block is not None:
        return blocks(block, accepted)
    if item is not None:
        return st.lists(blocks(item, accepted), max_size=8 if accepted else 10)
    known = format_values(declared)
    if known is None:
        return json_values
    valid, near_miss = known
    return valid if accepted else st.one_of(valid, near_miss)


def has_own_values(declared: Any) -> bool:
    """Whether a field of this type gets values of its format (else any JSON, which its rule mostly refuses)."""
    return format_values(declared) is not None or _block_of(declared) is not None or _item_block(declared) is not None


def format_values(declared: Any) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]] | None:
    for format_type, valid, near_miss in FORMATS:
        if format_type is declared or (get_origin(declared) is Annotated and format_type == declared):
            return valid, near_miss
    return None


def blocks(model: type[BaseModel], accepted: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """A block written from scratch: any of its fields, each with a value of its own type."""
    fields = {name: _lazy_values(info.annotation, accepted) for name, info in model.model_fields.items()}
    return st.fixed_dictionaries({}, optional=fields)


def _lazy_values(annotation: Any, accepted: bool) -> st.SearchStrategy[Any]:
    return st.deferred(lambda: field_values(_declared(annotation), accepted))


def field_paths(model: type[BaseModel] = Cerfa, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every field of the model with its declared type, blocks and their fields, the first pay periods' fields."""
    for name, info in model.model_fields.items():
        declared, path = _declared(info.annotation), (*prefix, name)
        yield path, declared
        block, item = _block_of(declared), _item_block(declared)
        if block is not None:
            yield from field_paths(block, path)
        elif item is not None:
            for index in range(PERIODS_GENERATED):
                yield from field_paths(item, (*path, index))


FIELDS: Final = list(field_paths())
DATE_FIELDS: Final = [path for path, declared in FIELDS if declared is f.IsoDate]  # what most rules compare


@st.composite
def mutations(draw: st.DrawFn, accepted: bool = True) -> tuple[Path, Any]:
    """One change to a document: a field (or block) set to a value of its type, null, or removed; unless
    `accepted`, also a near miss, a value of the wrong JSON type, or an unknown field."""
    path, declared = draw(st.sampled_from(FIELDS))
    kinds = ["value", "value", "null", "drop"] + ([] if accepted else ["wrong", "unknown", "near miss"])
    kind = draw(st.sampled_from(kinds))
    if kind == "null":
        return path, None
    if kind == "drop":
        return path, DROP
    if kind == "wrong":
        return path, draw(json_values)
    if kind == "unknown":
        return (*path[:-1], draw(st.sampled_from(["inconnu", "dateNaisance", "Nom", ""]))), draw(json_scalars)
    return path, draw(field_values(declared, accepted=kind == "value"))


def with_mutation(document: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """`document` with the value at `path` replaced (made where absent; DROP removes it)."""
    result = copy.deepcopy(document)
    container: Any = result
    for step, following in itertools.pairwise(path):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            while len(container) <= step:
                container.append({})
            if not isinstance(container[step], type(empty)):
                container[step] = empty
        elif not isinstance(container.get(step), type(empty)):
            container[step] = empty
        container = container[step]
    last = path[-1]
    if isinstance(last, int):
        while len(container) <= last:
            container.append({})
    if value is DROP:
        if isinstance(container, dict):
            container.pop(last, None)
        return result
    container[last] = value
    return result


EXAMPLES: Final = ("cerfa-complete.json", "cerfa-draft.json")


@st.composite
def cerfa_documents(draw: st.DrawFn, max_changes: int = 8) -> dict[str, Any]:
    """One of the examples (or nothing) with up to `max_changes` changes and a few more to its dates, or a Cerfa
    written from scratch; a third of them may hold values the formats refuse."""
    accepted = draw(st.sampled_from([True, True, False]))
    start = draw(st.sampled_from([EXAMPLES[0], *EXAMPLES, "empty", "scratch"]))  # the complete one is the richest
    if start == "scratch":
        return draw(blocks(Cerfa, accepted))
    document = {} if start == "empty" else load_example(start)
    for path, value in draw(st.lists(mutations(accepted), max_size=max_changes)):
        document = with_mutation(document, path, value)
    pivot = draw(st.one_of(st.just(date(2026, 9, 1)), st.dates()))
    for path in draw(st.lists(st.sampled_from(DATE_FIELDS), max_size=5, unique=True)):
        document = with_mutation(document, path, draw(st.one_of(days_around(pivot), dates)))
    return document


def days_around(pivot: date) -> st.SearchStrategy[str]:
    """Dates within 30 years of `pivot` (the examples' contract start, or any day): the rules compare dates to
    one another, so a few of them moved around the same day reach every order, ages below zero included."""
    return st.integers(-30 * 366, 30 * 366).map(lambda days: _shifted(pivot, days).isoformat())


def _shifted(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


@st.composite
def merge_patches(draw: st.DrawFn, max_changes: int = 6) -> Any:
    """A JSON merge patch of a Cerfa: changes at real paths (nulls remove), nested blocks, or any JSON at all."""
    kind = draw(st.sampled_from(["accepted", "accepted", "near misses", "any"]))
    if kind == "any":
        return draw(json_values)
    patch: dict[str, Any] = {}
    for path, value in draw(st.lists(mutations(accepted=kind == "accepted"), max_size=max_changes)):
        if any(isinstance(step, int) for step in path):  # a merge patch replaces arrays whole
            path = path[: next(i for i, step in enumerate(path) if isinstance(step, int))]
            value = draw(field_values(dict(FIELDS)[path], accepted=kind == "accepted"))
        patch = with_mutation(patch, path, None if value is DROP else value)
    pivot = draw(st.one_of(st.just(date(2026, 9, 1)), st.dates()))
    for path in draw(st.lists(st.sampled_from(DATE_FIELDS), max_size=3, unique=True)):
        if not any(isinstance(step, int) for step in path):
            patch = with_mutation(patch, path, draw(days_around(pivot)))
    return patch
