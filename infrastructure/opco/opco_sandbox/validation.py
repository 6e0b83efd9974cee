"""The OPCO's checks of a submitted dossier: the description of the wire the client translates with
(infrastructure/opco/opco_wire), leniently by default, strictly when the sandbox is configured so."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infrastructure.opco.opco_sandbox.errors import ApiError
from infrastructure.opco.opco_wire import dossier_violations

MAITRE2 = "maitre2"


def field_at(cerfa: Mapping[str, Any], dotted: str) -> Any:
    value: Any = cerfa
    for name in dotted.split("."):
        value = value.get(name) if isinstance(value, Mapping) else None
    return value


def dossier_errors(body: Mapping[str, Any], strict: bool) -> list[ApiError]:
    errors = [ApiError(v.code, v.description, v.field) for v in dossier_violations(body, strict=strict)]
    numero = field_at(body, "cerfa.numeroInterne")
    if numero is not None and not isinstance(numero, str) and not strict:  # strict mode has said so already
        errors.append(ApiError("FORMAT_INVALIDE", "Le champ numeroInterne doit être une chaîne", "numeroInterne"))
    return errors


def received_cerfa(body: Mapping[str, Any]) -> dict[str, Any]:
    """The `cerfa` object as the OPCO keeps it, with a `maitre2` sent beside it (CerFacil) put back inside."""
    cerfa = dict(body["cerfa"])
    if isinstance(body.get(MAITRE2), Mapping) and MAITRE2 not in cerfa:
        cerfa[MAITRE2] = body[MAITRE2]
    return cerfa
