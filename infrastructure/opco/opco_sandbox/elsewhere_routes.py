"""Dossiers deposited at an OPCO some other way (its portal, the employer): what a CFA imports (issue 13).

The operator seeds them (POST /_sandbox/dossiers/elsewhere). Such a dossier may have no numeroInterne (the sandbox
keeps a hidden one, never shown: it is found by numeroExterne or numeroDeca), a DECA number chosen by the operator
(the same at two OPCOs, or one that disagrees with a dossier the CFA sent), and a decision already made. What the
OPCO would not show is kept in the stored blocks under `DEPOT`, which the wire leaves out."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.admin_auth import operator
from infrastructure.opco.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco.opco_sandbox.lifecycle import progress
from infrastructure.opco.opco_sandbox.records import DEPOT, StoredDossier, shown_numero_interne
from infrastructure.opco.opco_sandbox.validation import dossier_errors, received_cerfa
from infrastructure.opco.opco_sandbox.wire import SandboxJSON

HIDDEN_PREFIX = "AILLEURS-"

router = APIRouter(prefix="/_sandbox", dependencies=[Depends(operator)])


class ElsewhereDossier(BaseModel):
    dossier: dict[str, Any] = Field(description="the body of POST /dossiers as a client sends it ({cerfa: {...}})")
    numeroInterne: str | None = Field(default=None, description="absent: the OPCO has none for it")
    numeroDeca: str | None = Field(default=None, description="to force one (else the sandbox's, once decided)")
    decided: bool = Field(default=True, description="deposited long enough ago to be decided (ENGAGE or REFUSE)")


class ElsewhereRequest(BaseModel):
    opco: Opco
    siret: str = Field(pattern=r"^[0-9]{14}$")
    dossiers: list[ElsewhereDossier] = Field(min_length=1, max_length=10_000)


@router.post("/dossiers/elsewhere")
def seed_elsewhere(request: ElsewhereRequest, sandbox: Annotated[Sandbox, Depends(current_sandbox)]) -> SandboxJSON:
    """Stores dossiers as if deposited at this OPCO for this CFA some other way; answers what the OPCO shows of
    each (201)."""
    config, stored = sandbox.config, []
    for position, item in enumerate(request.dossiers):
        if dossier_errors(item.dossier, False) or not isinstance(item.dossier.get("cerfa"), dict):
            error = ApiError("DOSSIER_INVALIDE", f"dossiers[{position}]: not a valid dossier body", "dossier")
            raise SandboxRefusal(400, [error])
        cerfa = received_cerfa(item.dossier)
        cerfa[DEPOT] = {"sansNumeroInterne": item.numeroInterne is None, "numeroDeca": item.numeroDeca}
        age = timedelta(seconds=config.instruction_delay + config.decision_delay + 1) if item.decided else timedelta()
        numero = item.numeroInterne or HIDDEN_PREFIX + secrets.token_hex(6).upper()
        dossier = sandbox.store.add_dossier(request.opco, request.siret[:9], numero, cerfa, sandbox.now() - age)
        if dossier is None:
            error = ApiError("DOSSIER_EXISTANT", f"dossiers[{position}]: this numeroInterne exists already")
            raise SandboxRefusal(400, [error])
        stored.append(dossier)
    now = sandbox.now()
    return SandboxJSON(
        [shown(d, progress(d, now, config).etat, progress(d, now, config).numero_deca) for d in stored], status_code=201
    )


def shown(dossier: StoredDossier, etat: str, numero_deca: str | None) -> dict[str, Any]:
    return {
        "numeroInterne": shown_numero_interne(dossier),
        "numeroExterne": dossier.numero_externe,
        "numeroDeca": numero_deca,
        "etat": etat,
    }
