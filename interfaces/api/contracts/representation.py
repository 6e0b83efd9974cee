"""How a dossier is written on the wire: JSON body plus ETag, Location and X-Position headers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse

from application.access.access import ApiToken, Role
from application.access.exposure import hidden_paths, visible
from application.contracts.assessment import Assessment
from application.dossiers import Saved
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_lookup import lookup_view
from domain.contracts.contract import Contract
from domain.contracts.contract_state import ContractState
from domain.opco.opcos import Opco
from interfaces.api.ruptures.rupture_representation import rupture_view
from interfaces.bootstrap import Container


def contract_body(contract: Contract, assessment: Assessment, transmission: dict[str, Any] | None) -> dict[str, Any]:
    mandate = contract.mandate
    return {
        "id": str(contract.id),
        "numeroInterne": contract.numero_interne,
        "cfaSiret": contract.cfa_siret,
        "origin": contract.origin,
        "state": contract.state.value,
        "opco": assessment.opco.value if assessment.opco else None,
        "opcoSource": assessment.opco_source,
        "cerfa": contract.cerfa,
        "mandate": {**mandate, "signedOn": mandate["signedOn"].isoformat()} if mandate else None,
        "problems": [p.as_dict() for p in assessment.problems],
        "transmission": transmission,
        "numeroExterne": contract.numero_externe,
        "opcoNumeroInterne": contract.opco_numero_interne,
        "numeroDeca": contract.numero_deca,
        "opcoState": contract.opco_state,
        "opcoComment": contract.opco_comment,
        "unknownOpcoState": contract.unknown_opco_state,
        "commitment": contract.commitment,
        "echeances": contract.echeances,
        "npecForecast": contract.npec_forecast,
        "version": contract.version,
        "createdAt": contract.created_on.isoformat(),
        "updatedAt": contract.modified_on.isoformat(),
    }


def transmission_body(contract: Contract, accounts: OpcoAccounts) -> dict[str, Any] | None:
    """Where the sending stands; None for a draft, which is not to be sent yet."""
    if contract.submitted_to is None:
        return None
    tx = contract.transmission
    opco = Opco(contract.submitted_to)
    blocked = accounts.not_ready(contract.cfa_siret, opco) if contract.state is ContractState.SUBMITTED else None
    waiting = blocked is not None and blocked.code != "opco_unreachable"
    body = {**attempts_body(tx, waiting), "opcoTakesContracts": accounts.profiles[opco].contracts}
    body["waitingFor"] = {"code": blocked.code, "message": blocked.message} if blocked else None
    return body


def attempts_body(tx: dict[str, Any], waiting_for_key: bool) -> dict[str, Any]:
    """The record of sending attempts, for contracts and invoices alike."""
    return {
        "attempts": tx["attempts"],
        "failures": tx.get("failures", 0),
        "parked": tx["parked"],
        "inFlightSince": _iso(tx["inFlightSince"]),
        "nextAttemptAt": _iso(tx["nextAttemptAt"]),
        "lastError": tx["lastError"],
        "waitingForKey": waiting_for_key,
        "history": [{k: _iso(v) if isinstance(v, datetime) else v for k, v in h.items()} for h in tx["history"]],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def etag(version: int) -> str:
    return f'"{version}"'


def contract_response(
    contract: Contract,
    services: Container,
    role: Role,
    *,
    status: int = 200,
    position: int | None = None,
    at: datetime | None = None,
) -> JSONResponse:
    """The dossier as `role` may see it (application/access/exposure.py); `at`: the moment a past version is shown
    as of (its rupture's transmission as it was then)."""
    headers = {"ETag": etag(contract.version), "Location": f"/contracts/{contract.id}"}
    if position is not None:
        headers["X-Position"] = str(position)
    body = contract_body(
        contract, services.dossiers.assessments.of(contract), transmission_body(contract, services.accounts)
    )
    body["hiddenFields"] = [f"cerfa.{path}" for path in hidden_paths(body["cerfa"], role)]
    body["cerfa"] = visible(body["cerfa"], role)
    body["opcoLookup"] = lookup_view(contract, services.dossiers.routing)
    body["rupture"] = rupture_view(contract, services, at)
    return JSONResponse(body, status_code=status, headers=headers)


def saved_response(saved: Saved, services: Container, role: Role, status: int = 200) -> JSONResponse:
    response = contract_response(saved.contract, services, role, status=status, position=saved.position)
    if saved.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def token_body(token: ApiToken, now: datetime) -> dict[str, Any]:
    status = "revoked" if token.revoked else "active" if token.valid_at(now) else "expired"
    return {
        "id": str(token.id),
        "cfaSiret": token.cfa_siret,
        "role": token.role.value,
        "name": token.name,
        "revoked": token.revoked,
        "status": status,
        "expiresAt": _iso(token.expires_at),
        "createdAt": token.created_on.isoformat(),
    }
