"""Ruptures of contract dossiers: declare, withdraw, mark declared, retry, record the traineeship; read the rupture
with its history. Every POST takes an Idempotency-Key; bad values are 422 naming the field and the rule."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from application.errors import NotFound
from domain.ruptures.rupture import RuptureRequest
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.contracts.contracts import DOSSIER, IdempotencyKey, IfMatch
from interfaces.api.contracts.representation import contract_response, saved_response
from interfaces.api.contracts.schemas import ContractOut
from interfaces.api.preconditions import expected_version
from interfaces.api.ruptures.rupture_representation import rupture_view
from interfaces.api.ruptures.rupture_schemas import RuptureDetailOut, RuptureIn, TraineeshipIn, Withdrawal

router = APIRouter(prefix="/contracts", tags=["ruptures"])


@router.post("/{contract_id}/rupture", status_code=202, response_model=ContractOut, responses={202: DOSSIER})
def declare_rupture(
    contract_id: UUID,
    body: RuptureIn,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Terminate a contract the OPCO has (sent, in review, accepted): the rupture is checked (date within the
    contract, motif and initiative, probatory period), recorded, and sent to the OPCO where it takes ruptures over
    the API, else listed on /attention as a declaration to file on the OPCO's site."""
    request = RuptureRequest(
        date_effet=body.dateEffetRupture,
        motif=body.motif,
        initiative=body.initiative,
        date_signalement=body.dateSignalement,
        commentaire=body.commentaire,
        fin_periode_probatoire=body.finPeriodeProbatoire,
    )
    saved = services.terminations.declare(
        who,
        contract_id,
        request,
        expected_version=expected_version(if_match, required=False),
        idempotency_key=idempotency_key,
        request_body=body.model_dump(mode="json", exclude_none=True),
    )
    return saved_response(saved, services, who.role, status=202)


@router.get("/{contract_id}/rupture", response_model=RuptureDetailOut)
def get_rupture(contract_id: UUID, who: CurrentPrincipal, services: Services) -> dict[str, Any]:
    """The rupture, where its transmission stands, and every step of every rupture of the dossier (404 without one)."""
    contract = services.dossiers.contract(who, contract_id)
    view = rupture_view(contract, services)
    if view is None:
        raise NotFound("rupture of contract", contract_id)
    return {**view, "events": services.terminations.history(who, contract_id)}


@router.post("/{contract_id}/rupture/withdrawal", response_model=ContractOut)
def withdraw_rupture(
    contract_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    body: Withdrawal | None = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Withdraw a rupture the OPCO has not received (409 once it may have: sent, in flight, answer lost)."""
    saved = services.terminations.withdraw(
        who,
        contract_id,
        body.reason if body else None,
        expected_version=expected_version(if_match, required=False),
        idempotency_key=idempotency_key,
    )
    return saved_response(saved, services, who.role)


@router.post("/{contract_id}/rupture/declaration", response_model=ContractOut)
def mark_rupture_declared(
    contract_id: UUID, who: CurrentPrincipal, services: Services, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """The CFA filed the rupture on the OPCO's site (an OPCO without the API route), or checked there that the OPCO
    has a rupture whose answer was lost: it leaves /attention."""
    services.terminations.mark_declared(who, contract_id, idempotency_key)
    return contract_response(services.dossiers.contract(who, contract_id), services, who.role)


@router.post("/{contract_id}/rupture/transmission/retry", response_model=ContractOut)
def retry_rupture_transmission(
    contract_id: UUID, who: CurrentPrincipal, services: Services, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A person checked that the OPCO does not have the parked rupture: it is sent at the worker's next round."""
    services.terminations.resume_transmission(who, contract_id, idempotency_key)
    return contract_response(services.dossiers.contract(who, contract_id), services, who.role)


@router.post("/{contract_id}/rupture/traineeship", response_model=ContractOut)
def record_traineeship(
    contract_id: UUID,
    body: TraineeshipIn,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The apprentice goes on at the CFA as a trainee after the rupture, for at most six months (L6222-18-2); the
    funding view shows it."""
    saved = services.terminations.record_traineeship(
        who,
        contract_id,
        body.debut,
        body.fin,
        expected_version=expected_version(if_match, required=False),
        idempotency_key=idempotency_key,
    )
    return saved_response(saved, services, who.role)
