"""Error answers, in the shape each OPCO uses: an `errors` list, or a single `comment` at OPCO EP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.opco.opcos import Opco

COMMENT_OPCOS = frozenset({Opco.OPCOEP})
INVALID_KEY = "Clé API CFA invalide : vérifiez la clé API CFA et ses habilitations"


@dataclass(frozen=True, slots=True)
class ApiError:
    code: str
    description: str
    champ: str | None = None

    def to_wire(self) -> dict[str, str]:
        wire = {"code": self.code, "description": self.description}
        return wire if self.champ is None else {**wire, "champ": self.champ}


class SandboxRefusal(Exception):
    """Answered by the app's exception handler with `error_body`."""

    def __init__(
        self,
        status: int,
        errors: Sequence[ApiError],
        opco: Opco | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: " + "; ".join(error.description for error in errors))
        self.status = status
        self.errors = tuple(errors)
        self.opco = opco
        self.headers = dict(headers or {})


def error_body(opco: Opco | None, errors: Sequence[ApiError]) -> dict[str, Any]:
    if opco in COMMENT_OPCOS:
        return {"comment": " ; ".join(error.description for error in errors)}
    return {"errors": [error.to_wire() for error in errors]}


def invalid_key(opco: Opco) -> SandboxRefusal:
    return SandboxRefusal(403, [ApiError("CLE_API_INVALIDE", INVALID_KEY)], opco)
