"""Reading a Cerfa document (JSON) into the validated value object, and the few facts the dossier needs of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from domain.cerfa import Cerfa
from domain.errors import DomainError
from domain.problems import Problem


class InvalidCerfa(DomainError):
    """The Cerfa breaks format rules: refused whole, every failing field listed (maps to 422)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"the Cerfa has {len(problems)} invalid field(s)")
        self.problems = problems


def parse_cerfa(document: Mapping[str, Any]) -> Cerfa:
    try:
        return Cerfa.model_validate(document)
    except ValidationError as error:
        raise InvalidCerfa(validation_problems(error.errors(), prefix=("cerfa",))) from None


def validation_problems(errors: Iterable[Mapping[str, Any]], prefix: tuple[str, ...] = ()) -> list[Problem]:
    """pydantic error dicts → problems whose field is the dotted path from the dossier root."""
    return [
        Problem(".".join(str(part) for part in (*prefix, *error["loc"])), _code(error), _message(error))
        for error in errors
    ]


def _code(error: Mapping[str, Any]) -> str:
    code = str(error["type"])
    return {"extra_forbidden": "unknown_field", "missing": "required"}.get(code, code)


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field: not a field of the Cerfa FA13 standard at this place"
    return str(error["msg"])


def cfa_siret(cerfa: Cerfa) -> str | None:
    return cerfa.organismeFormation.siret if cerfa.organismeFormation else None


def employer_idcc(cerfa: Cerfa) -> str | None:
    return cerfa.employeur.codeIdcc if cerfa.employeur else None


def employer_type(cerfa: Cerfa) -> int | None:
    return cerfa.employeur.typeEmployeur if cerfa.employeur else None
