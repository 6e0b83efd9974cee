"""Avenants of accepted contracts: request one (with its mandate), sign, submit, withdraw, review what it flagged,
retry; read them with their history; the contract as of a date; the CFA's avenants. Every POST takes an
Idempotency-Key; bad values are 422 naming the field and the rule."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from application.amendments.amendments import Amendments
from domain.amendments.amendment import Amendment, AmendmentState
from domain.amendments.amendment_types import AMENDMENT_TYPES, AmendmentRequest
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.amendments.amendment_schemas import (
    AmendmentIn,
    AmendmentItemOut,
    AmendmentMandateIn,
    AmendmentOut,
    Withdrawal,
)
from interfaces.api.contracts.contracts import IdempotencyKey, IfMatch
from interfaces.api.contracts.representation import etag
from interfaces.api.preconditions import expected_version

router = APIRouter(tags=["amendments"])


@router.post("/contracts/{contract_id}/amendments", status_code=201, response_model=AmendmentOut)
def request_amendment(
    contract_id: UUID,
    body: AmendmentIn,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Amend an accepted contract (one avenant pending at a time: 409 while another is undecided). 422 naming each
    field and rule: `unknown_amendment_type`, `required` (dateEffetAvenant for 31–37), `outside_contract`,
    `no_changes`, `field_not_amendable`, `set_by_amendment`, and the Cerfa's format rules on the amended contract.
    `ETag` is the contract's new version (If-Match applies to it)."""
    mandate = (body.mandate.signedOn, body.mandate.signatory.model_dump()) if body.mandate else None
    saved, amendment = services.amendments.request(
        who,
        contract_id,
        AmendmentRequest(body.typeContratApp, body.dateEffetAvenant, body.changes),
        mandate,
        expected_version=expected_version(if_match, required=False),
        idempotency_key=idempotency_key,
        request_body=body.model_dump(mode="json", exclude_none=True),
    )
    headers = {
        "ETag": etag(saved.contract.version),
        "Location": f"/contracts/{contract_id}/amendments/{amendment.number}",
    }
    if saved.position is not None:
        headers["X-Position"] = str(saved.position)
    if saved.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(amendment_view(services.amendments, amendment), status_code=201, headers=headers)


@router.get("/contracts/{contract_id}/amendments", response_model=list[AmendmentOut])
def list_contract_amendments(contract_id: UUID, who: CurrentPrincipal, services: Services) -> list[dict[str, Any]]:
    """The contract's avenants, by number, withdrawn ones too."""
    contract = services.dossiers.contract(who, contract_id)
    return [amendment_view(services.amendments, a) for a in services.amendments.of_contract(contract)]


@router.get("/contracts/{contract_id}/amendments/{number}", response_model=AmendmentOut)
def get_amendment(contract_id: UUID, number: int, who: CurrentPrincipal, services: Services) -> dict[str, Any]:
    """One avenant with every step of it (`events`, with their actor)."""
    amendment = services.amendments.one(who, contract_id, number)
    view = amendment_view(services.amendments, amendment)
    return {**view, "events": services.amendments.history(who, contract_id, number)}


@router.post("/contracts/{contract_id}/amendments/{number}/mandate", response_model=AmendmentOut)
def record_amendment_mandate(
    contract_id: UUID,
    number: int,
    body: AmendmentMandateIn,
    who: CurrentPrincipal,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """The employer's mandate for this avenant (a drafted one); the same again changes nothing."""
    amendment = services.amendments.record_mandate(
        who, contract_id, number, body.signedOn, body.signatory.model_dump(), idempotency_key
    )
    return amendment_view(services.amendments, amendment)


@router.post("/contracts/{contract_id}/amendments/{number}/submission", status_code=202, response_model=AmendmentOut)
def submit_amendment(
    contract_id: UUID, number: int, who: CurrentPrincipal, services: Services, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Send it to the contract's OPCO (202), or 409 listing what blocks it (the Cerfa's rules on the amended
    contract, the mandate)."""
    amendment = services.amendments.submit(who, contract_id, number, idempotency_key)
    return amendment_view(services.amendments, amendment)


@router.post("/contracts/{contract_id}/amendments/{number}/withdrawal", response_model=AmendmentOut)
def withdraw_amendment(
    contract_id: UUID,
    number: int,
    who: CurrentPrincipal,
    services: Services,
    body: Withdrawal | None = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Withdraw an avenant not yet sent (409 once an attempt was made: it may be at the OPCO)."""
    amendment = services.amendments.withdraw(who, contract_id, number, body.reason if body else None, idempotency_key)
    return amendment_view(services.amendments, amendment)


@router.post("/contracts/{contract_id}/amendments/{number}/review", response_model=AmendmentOut)
def review_amendment(
    contract_id: UUID, number: int, who: CurrentPrincipal, services: Services, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """A person re-checked the échéances and the OPCO change the avenant flagged: it leaves /attention."""
    amendment = services.amendments.mark_reviewed(who, contract_id, number, idempotency_key)
    return amendment_view(services.amendments, amendment)


@router.post("/contracts/{contract_id}/amendments/{number}/transmission/retry", response_model=AmendmentOut)
def retry_amendment_transmission(
    contract_id: UUID, number: int, who: CurrentPrincipal, services: Services, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Send again an avenant parked after repeated failures."""
    amendment = services.amendments.resume_transmission(who, contract_id, number, idempotency_key)
    return amendment_view(services.amendments, amendment)


@router.get("/amendments", response_model=list[AmendmentItemOut])
def list_amendments(
    who: CurrentPrincipal,
    services: Services,
    state: Annotated[
        Literal["pending", "drafted", "submitted", "sent", "in_review", "accepted", "refused", "withdrawn"] | None,
        Query(description="pending: not yet decided by the OPCO"),
    ] = None,
    waiting: Annotated[bool | None, Query(description="true: waiting for a person")] = None,
) -> list[dict[str, Any]]:
    """The CFA's avenants, last changed first (the avenants read model: it may lag the log by a round)."""
    return [row.as_item() for row in services.amendment_status.listing(who, state, waiting)]


def amendment_view(amendments: Amendments, amendment: Amendment) -> dict[str, Any]:
    problems = []
    if amendment.state is AmendmentState.DRAFTED:
        problems = [p.as_dict() for p in (*amendments.cerfa_problems(amendment), *amendment.own_problems)]
    tx = amendment.transmission
    return {
        "contractId": str(amendment.contract_id),
        "number": amendment.number,
        "typeContratApp": amendment.type_code,
        "libelle": AMENDMENT_TYPES[amendment.type_code].label,
        "dateEffetAvenant": _iso(amendment.effect_date),
        "inEffectOn": _iso(amendment.in_effect_on),
        "changes": amendment.changes,
        "state": amendment.state.value,
        "problems": problems,
        "mandate": amendment.mandate,
        "numeroInterne": amendment.numero_interne,
        "answerShape": amendment.answer_shape.value if amendment.answer_shape else None,
        "numeroExterne": amendment.numero_externe,
        "numeroDeca": amendment.numero_deca,
        "noAvenant": amendment.no_avenant,
        "opcoState": amendment.opco_state,
        "opcoComment": amendment.opco_comment,
        "effects": amendment.effects,
        "reviewed": amendment.reviewed,
        "waitingFor": amendment.waiting_for,
        "withdrawable": amendment.withdrawable,
        "transmission": {
            "attempts": tx["attempts"],
            "parked": tx["parked"],
            "lastError": tx["lastError"],
            "nextAttemptAt": _iso(tx["nextAttemptAt"]),
            "inFlightSince": _iso(tx["inFlightSince"]),
            "history": [{k: _iso(v) for k, v in entry.items()} for entry in tx["history"]],
        },
        "cerfa": amendment.cerfa,
    }


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
