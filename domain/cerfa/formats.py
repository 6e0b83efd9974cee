"""Reusable field types of the Cerfa FA13: identifiers, codes, dates, amounts and enumerations.

Each type is an ``Annotated`` pydantic type whose validator normalises the value to the standard's form
(the form stored in events and returned by the API) or raises a ``PydanticCustomError`` whose stable
snake_case code reaches the API's 422 ``errors`` list.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError
from stdnum import exceptions as stdnum_errors
from stdnum.fr import nir as stdnum_nir
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret


def _fail(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


def _no_spaces(value: str) -> str:
    return re.sub(r"[\s.]", "", value)


# --- company and school identifiers ---------------------------------------------------------------


# The same employers and CFAs recur in every dossier: their identifiers' checks are memoised.
@lru_cache(maxsize=8192)
def _siret(value: str) -> str:
    number = _no_spaces(value)
    if not re.fullmatch(r"[0-9]{14}", number):
        raise _fail("siret_format", "a SIRET is 14 digits")
    if not stdnum_siret.is_valid(number):
        raise _fail("siret_checksum", "this SIRET fails its check digit (Luhn key)")
    return number


@lru_cache(maxsize=8192)
def _siren(value: str) -> str:
    number = _no_spaces(value)
    if not re.fullmatch(r"[0-9]{9}", number):
        raise _fail("siren_format", "a SIREN is 9 digits")
    if not stdnum_siren.is_valid(number):
        raise _fail("siren_checksum", "this SIREN fails its check digit (Luhn key)")
    return number


_UAI_LETTERS: Final = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _uai(value: str) -> str:
    uai = value.strip().upper()
    if not re.fullmatch(r"[0-9]{7}[A-Z]", uai):
        raise _fail("uai_format", "a UAI is 7 digits followed by a check letter")
    expected = _UAI_LETTERS[int(uai[:7]) % 23]
    if uai[7] != expected:
        raise _fail("uai_check_letter", f"the check letter of UAI {uai[:7]} is {expected}, not {uai[7]}")
    return uai


# --- personal identifiers -------------------------------------------------------------------------


def _nir(value: str) -> str:
    number = _no_spaces(value).upper()
    if not re.fullmatch(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}", number):
        raise _fail(
            "nir_format",
            "a NIR is 15 characters: 13 digits (department 2A/2B allowed for Corsica) and a 2-digit key",
        )
    try:
        stdnum_nir.validate(number)
    except stdnum_errors.ValidationError:
        expected = stdnum_nir.calc_check_digits(number)
        raise _fail(
            "nir_key", f"the NIR key should be {expected} (97 minus the number modulo 97), not {number[13:]}"
        ) from None
    return number


# --- certification codes --------------------------------------------------------------------------


def _rncp(value: str) -> str:
    code = value.strip().upper().replace(" ", "")
    match = re.fullmatch(r"(?:RNCP)?([0-9]{2,5})", code)
    if match is None:
        raise _fail("rncp_format", "an RNCP code is 2 to 5 digits, optionally prefixed with RNCP")
    return "RNCP" + match.group(1)


def _code_diplome(value: str) -> str:
    code = value.strip().upper()
    if not re.fullmatch(r"[0-9A-Z]{8}[A-Z]?", code):
        raise _fail(
            "code_diplome_format",
            "a diploma code (CFD) is 8 digits or capital letters, plus an optional letter",
        )
    return code


_DECA: Final = re.compile(r"(0[0-9][0-9]|02[AB]|9[012345]|97[12346])([0-9]{4})([0-1][0-9])(NC|[0-9]{2})([0-9]{4})")


def _numero_deca(value: str) -> str:
    number = _no_spaces(value).upper()
    if not _DECA.fullmatch(number):
        raise _fail(
            "numero_deca_format",
            "a DECA contract number is 15 characters: department (3), year (4), month (2), NC or 2 digits, 4 digits",
        )
    return number


# --- addresses and contact ------------------------------------------------------------------------


def _code_postal(value: str) -> str:
    code = value.strip()
    if not re.fullmatch(r"[0-9]{5}", code):
        raise _fail("code_postal_format", "a postcode is 5 digits")
    return code


_EMAIL: Final = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}))"
)


def _email(value: str) -> str:
    address = value.strip()
    match = _EMAIL.fullmatch(address)
    if match is None or len(address) > 254 or len(match.group("local")) > 64:
        raise _fail("email_format", "not a valid email address (name@domain.tld)")
    return f"{match.group('local')}@{match.group('domain').lower()}"


# Normalised to the national form 0XXXXXXXXX; the international forms of mainland France (+33) and of the
# overseas departments (+262, +590, +594, +596: national numbers 0262…, 0590…) are brought back to it.
def _telephone(value: str) -> str:
    digits = re.sub(r"[\s.\-()/]", "", value)
    digits = re.sub(r"^(?:\+|00)(?:33|262|590|594|596)0?(?=[0-9]{9}$)", "0", digits)
    if not re.fullmatch(r"0[1-9][0-9]{8}", digits):
        raise _fail("telephone_format", "a French telephone number is 10 digits starting with 0, or +33 and 9 digits")
    return digits


# --- employer codes -------------------------------------------------------------------------------


def _idcc(value: Any) -> str:
    text = _integer_text(value)
    if text is None or not re.fullmatch(r"[0-9]{1,4}", text):
        raise _fail("idcc_format", "an IDCC is a number of at most 4 digits (9999: none, 9998: under negotiation)")
    return text.zfill(4)


def _naf(value: str) -> str:
    match = re.fullmatch(r"([0-9]{2})\.?([0-9]{2})([A-Za-z])", value.strip())
    if match is None:
        raise _fail("naf_format", "a NAF code is 4 digits and a letter, such as 62.01Z")
    return f"{match.group(1)}.{match.group(2)}{match.group(3).upper()}"


def _departement(value: Any) -> str:
    text = _integer_text(value)
    if text is None and isinstance(value, str):
        text = value.strip().upper()
    if text is not None and len(text) == 1:
        text = text.zfill(2)
    # The shape only: whether the code names a real place is a rule (rules_people.birth_departement), so that a
    # draft stored before that rule still reads back, with the rule's problem, instead of failing to replay.
    if text is None or not re.fullmatch(r"[0-9][0-9]|2[AB]|97[1-8]|98[46789]", text):
        raise _fail(
            "departement_format",
            "a birth département is 2 digits, 2A/2B, or an overseas code 971–978 / 984–989 (99: abroad)",
        )
    return text


# --- dates, amounts, integers ---------------------------------------------------------------------


def _iso_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        raise _fail("date_format", "a date is written YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _fail("date_invalid", f"{value.strip()} is not a calendar date") from None


def _decimal(value: Any) -> Decimal:
    """A non-negative decimal with at most 2 decimal places; a float goes through ``str`` so 0.1 stays 0.1."""
    if isinstance(value, bool):
        raise _fail("decimal_format", "expected a number")
    if isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, int | float | str):
        text = str(value).strip()
    else:
        raise _fail("decimal_format", "expected a number or a decimal string")
    if not re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?", text):
        raise _fail("decimal_format", f"{text!r} is not a decimal number such as 1234.56")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _fail("decimal_format", f"{text!r} is not a decimal number") from None
    if number < 0:
        raise _fail("decimal_negative", "must not be negative")
    if number.adjusted() >= 12:  # no amount or rate of a Cerfa comes near; and cents stay exact
        raise _fail("decimal_too_large", "at most 12 digits before the decimal point")
    if number != number.quantize(Decimal("0.01")):
        raise _fail("decimal_places", f"{text} has more than 2 decimal places")
    return number


def _amount(value: Any) -> Decimal:
    return _decimal(value).quantize(Decimal("0.01"))


def _rate(value: Any) -> Decimal:
    number = _decimal(value)
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


def _integer_text(value: Any) -> str | None:
    """The digits of a JSON integer or of a numeric string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]+\s*", value):
        return value.strip()
    return None


def _bounded_int(low: int, high: int) -> BeforeValidator:
    def check(value: Any) -> int:
        text = _integer_text(value)
        if text is None:
            raise _fail("integer_format", "expected a whole number")
        number = int(text)
        if not low <= number <= high:
            raise _fail("out_of_range", f"must be between {low} and {high}, got {number}")
        return number

    return BeforeValidator(check, json_schema_input_type=int | str)


# --- enumerations ---------------------------------------------------------------------------------


def _int_enum(allowed: Collection[int], code: str = "enum", message: str = "") -> BeforeValidator:
    listed = ", ".join(str(v) for v in sorted(allowed))

    def check(value: Any) -> int:
        text = _integer_text(value)
        if text is None:
            raise _fail("enum", f"expected one of the codes {listed}")
        if int(text) not in allowed:
            raise _fail(code, message or f"{int(text)} is not one of the codes {listed}")
        return int(text)

    return BeforeValidator(check, json_schema_input_type=int | str)


def _str_enum(allowed: Collection[str], width: int = 0) -> BeforeValidator:
    """Codes written as strings; with `width`, numbers are accepted and zero-padded (1 -> "01")."""
    listed = ", ".join(sorted(allowed))

    def check(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _fail("enum", f"expected one of the codes {listed}")
        digits = _integer_text(value) if width else None
        text = digits.zfill(width) if digits is not None else str(value).strip().upper()
        if text not in allowed:
            raise _fail("enum", f"{value!r} is not one of the codes {listed}")
        return text

    return BeforeValidator(check, json_schema_input_type=int | str if width else str)


def _oui_non(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    answer = value.strip().lower() if isinstance(value, str) else None
    if answer in {"oui", "true"}:
        return True
    if answer in {"non", "false"}:
        return False
    raise _fail("boolean", "expected true/false or oui/non")


def _name(value: str) -> str:
    name = " ".join(value.split())
    if not name or len(name) > 80 or not all(c.isalpha() or c in " -'’" for c in name):
        raise _fail("name_format", "a name is 1 to 80 letters, spaces, hyphens or apostrophes")
    return name


def _text(value: str) -> str:
    text = value.strip()
    if not text:
        raise _fail("text_empty", "must not be empty (omit the field or send null instead)")
    if len(text) > 255:
        raise _fail("text_too_long", f"at most 255 characters, got {len(text)}")
    return text


def _ordre(value: str) -> str:
    ordre = value.strip()
    if not re.fullmatch(r"[1-4]\.[12]", ordre):
        raise _fail("ordre_format", "a pay period is numbered year.period, from 1.1 to 4.2")
    return ordre


TYPES_EMPLOYEUR: Final = frozenset({11, 12, 13, 14, 15, 16, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30})
EMPLOYEURS_SPECIFIQUES: Final = frozenset({0, 1, 2, 3, 4})
TYPES_CONTRAT_APPRENTISSAGE: Final = frozenset({11, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 38})
TYPES_DEROGATION: Final = frozenset({11, 12, 21, 22, 50, 60})
MODES_CONTRACTUELS: Final = frozenset({1, 2, 3, 4})
NATIONALITES: Final = frozenset({1, 2, 3})
REGIMES_SOCIAUX: Final = frozenset({1, 2})
SITUATIONS_AVANT_CONTRAT: Final = frozenset(range(1, 13))
DIPLOMES: Final = frozenset(
    {13, 25, 26, 33, 34, 35, 38, 41, 42, 43, 49, 54, 55, 58, 61, 62, 63, 69, 71, 72, 73, 74, 79, 80}
)
NIVEAUX_DIPLOME: Final = frozenset({0, 3, 4, 5, 6, 7, 8})
MAJORATIONS: Final = frozenset({0, 10, 20})
DERNIERES_CLASSES: Final = frozenset({"01", "11", "12", "21", "22", "31", "32", "40", "41", "42"})

Siret = Annotated[str, AfterValidator(_siret)]
Siren = Annotated[str, AfterValidator(_siren)]
Uai = Annotated[str, AfterValidator(_uai)]
Nir = Annotated[str, AfterValidator(_nir)]
Rncp = Annotated[str, AfterValidator(_rncp)]
CodeDiplome = Annotated[str, AfterValidator(_code_diplome)]
NumeroDeca = Annotated[str, AfterValidator(_numero_deca)]
CodePostal = Annotated[str, AfterValidator(_code_postal)]
Email = Annotated[str, AfterValidator(_email)]
Telephone = Annotated[str, AfterValidator(_telephone)]
Idcc = Annotated[str, BeforeValidator(_idcc, json_schema_input_type=int | str)]
Naf = Annotated[str, AfterValidator(_naf)]
DepartementNaissance = Annotated[str, BeforeValidator(_departement, json_schema_input_type=int | str)]
PersonName = Annotated[str, AfterValidator(_name)]
Text = Annotated[str, AfterValidator(_text)]
OrdrePeriode = Annotated[str, AfterValidator(_ordre)]

IsoDate = Annotated[date, BeforeValidator(_iso_date, json_schema_input_type=str)]
Amount = Annotated[Decimal, BeforeValidator(_amount, json_schema_input_type=float | str)]
Rate = Annotated[Decimal, BeforeValidator(_rate, json_schema_input_type=float | str)]
OuiNon = Annotated[bool, BeforeValidator(_oui_non, json_schema_input_type=bool | str)]

TrainingHours = Annotated[int, _bounded_int(1, 9999)]
DistanceHours = Annotated[int, _bounded_int(0, 9999)]
WeeklyHours = Annotated[int, _bounded_int(0, 99)]
Minutes = Annotated[int, _bounded_int(0, 59)]
Headcount = Annotated[int, _bounded_int(0, 9_999_999)]
NumeroVoie = Annotated[int, _bounded_int(0, 99_999)]

TypeEmployeur = Annotated[int, _int_enum(TYPES_EMPLOYEUR)]
EmployeurSpecifique = Annotated[int, _int_enum(EMPLOYEURS_SPECIFIQUES)]
TypeContratApp = Annotated[
    int,
    _int_enum(
        TYPES_CONTRAT_APPRENTISSAGE,
        code="not_apprenticeship",
        message="only apprenticeship contracts (Cerfa FA13) are handled: type 11, 21–23 or 31–38",
    ),
]
TypeDerogation = Annotated[int, _int_enum(TYPES_DEROGATION)]
ModeContractuel = Annotated[int, _int_enum(MODES_CONTRACTUELS)]
Nationalite = Annotated[int, _int_enum(NATIONALITES)]
RegimeSocial = Annotated[int, _int_enum(REGIMES_SOCIAUX)]
SituationAvantContrat = Annotated[int, _int_enum(SITUATIONS_AVANT_CONTRAT)]
Diplome = Annotated[int, _int_enum(DIPLOMES)]
NiveauDiplome = Annotated[int, _int_enum(NIVEAUX_DIPLOME)]
RemunerationMajoration = Annotated[int, _int_enum(MAJORATIONS)]
DerniereClasse = Annotated[str, _str_enum(DERNIERES_CLASSES, width=2)]
Sexe = Annotated[str, _str_enum({"M", "F"})]
TypeSalaire = Annotated[str, _str_enum({"SMIC", "SMC"})]
RepetitionVoie = Annotated[str, _str_enum({"B", "T", "Q", "C"})]
