"""/_sandbox/*: keys, the OAuth client, faults, observation and reset; the operator's only (`admin_auth`)."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.admin_auth import operator
from infrastructure.opco.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco.opco_sandbox.lifecycle import Progress
from infrastructure.opco.opco_sandbox.records import ApiKey, StoredDossier, shown_numero_interne
from infrastructure.opco.opco_sandbox.rupture_book import progress_of
from infrastructure.opco.opco_sandbox.wire import SandboxJSON

router = APIRouter(prefix="/_sandbox", dependencies=[Depends(operator)])
SandboxDep = Annotated[Sandbox, Depends(current_sandbox)]


class KeyRequest(BaseModel):
    opco: Opco
    siret: str = Field(pattern=r"^[0-9]{14}$")
    dateFinValidite: date | None = None  # to rehearse an expired key; default: today + key_validity_days


@router.post("/keys")
def issue_key(request: KeyRequest, sandbox: SandboxDep) -> SandboxJSON:
    expires_on = request.dateFinValidite or sandbox.now().date() + timedelta(days=sandbox.config.key_validity_days)
    key = ApiKey(secrets.token_urlsafe(32), request.opco, request.siret[:9], expires_on)
    sandbox.store.add_key(key)
    body = {
        "apiKey": key.api_key,
        "opco": key.opco.value,
        "siren": key.siren,
        "dateFinValidite": expires_on.isoformat(),
    }
    return SandboxJSON(body, status_code=201)


@router.get("/oauth-clients")
def oauth_clients(sandbox: SandboxDep) -> SandboxJSON:
    """The software's OAuth clients at this sandbox (for the OPCOs that want a Bearer): `convergence serve` gives
    the first to the CFAs' accounts on its own; `convergence sandbox-credentials` prints it."""
    clients = sandbox.config.oauth_clients.items()
    return SandboxJSON([{"clientId": client_id, "clientSecret": secret} for client_id, secret in clients])


@router.delete("/keys/{api_key}")
def revoke_key(api_key: str, sandbox: SandboxDep) -> Response:
    if not sandbox.store.revoke_key(api_key):
        raise SandboxRefusal(404, [ApiError("CLE_INCONNUE", "Clé inconnue")])
    return Response(status_code=204)


@router.get("/faults")
def current_faults(sandbox: SandboxDep) -> SandboxJSON:
    return SandboxJSON(sandbox.faults.faults.to_wire())


@router.put("/faults")
def set_faults(changes: Annotated[dict[str, Any], Body()], sandbox: SandboxDep) -> SandboxJSON:
    """Replaces the fields given, keeps the others; re-seeds the random draws."""
    try:
        faults = sandbox.faults.faults.updated(changes)
    except (TypeError, ValueError) as error:
        raise SandboxRefusal(400, [ApiError("PANNES_INVALIDES", str(error))]) from error
    sandbox.faults.configure(faults)
    return SandboxJSON(faults.to_wire())


@router.get("/dossiers")
def stored_dossiers(sandbox: SandboxDep, opco: Annotated[Opco | None, Query()] = None) -> SandboxJSON:
    now = sandbox.now()
    return SandboxJSON(
        [_observed(dossier, progress_of(sandbox, dossier, now)) for dossier in sandbox.store.dossiers(opco)]
    )


def _observed(dossier: StoredDossier, state: Progress) -> dict[str, Any]:
    return {
        "opco": dossier.opco.value,
        "siren": dossier.siren,
        "numeroInterne": shown_numero_interne(dossier),
        "numeroExterne": dossier.numero_externe,
        "numeroDeca": state.numero_deca,
        "etat": state.etat,
        "submittedAt": dossier.submitted_at.isoformat(),
    }


@router.get("/stats")
def stats(sandbox: SandboxDep) -> SandboxJSON:
    return SandboxJSON(sandbox.stats.to_wire())


@router.post("/reset")
def reset(sandbox: SandboxDep) -> Response:
    """Forgets dossiers, invoices, keys, tokens and statistics; the faults go back to the configured ones."""
    sandbox.reset()
    return Response(status_code=204)
