"""Contract dossiers: create, read, complete, record the mandate, submit, cancel; and their event history."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from application.access.exposure import visible_event
from application.contracts.funding import funding
from domain.contracts.cerfa_document import parse_cerfa
from domain.errors import InvalidValue
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.audit.as_of import AsOf, Version, dossier_then
from interfaces.api.contracts.representation import contract_response, saved_response
from interfaces.api.contracts.schemas import Cancellation, ContractCreate, ContractOut, EventOut, MandateIn, OpcoChoice
from interfaces.api.invoices.invoice_schemas import FundingOut, NpecIn
from interfaces.api.preconditions import expected_version

router = APIRouter(prefix="/contracts", tags=["contracts"])

IfMatch = Annotated[str | None, Header(alias="If-Match", description='the ETag of the dossier, e.g. "3"')]
IDEMPOTENCY_KEY = (
    "a key of your choice (e.g. a UUID) that makes this request safe to send again, after a timeout or a 503: the"
    " same key with the same body (and If-Match) gets the first answer again, with `Idempotent-Replayed: true`,"
    " and nothing is applied twice; the same key with another body is 422 `idempotency-key-reused`. A key belongs"
    " to the CFA, the route and the resource: used elsewhere it is another request. Only what succeeded is kept:"
    " a refused request may be sent again under its key once the cause is fixed"
)
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255, description=IDEMPOTENCY_KEY)]
CERFA_BODY = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cerfa"}}}}
MERGE_PATCH_BODY = {
    "content": {
        "application/merge-patch+json": {"schema": {"type": "object"}},
        "application/json": {"schema": {"type": "object"}},
    }
}
DOSSIER = {"model": ContractOut, "description": "the dossier; ETag = its version"}


@router.post("", status_code=201, response_model=ContractOut, responses={201: DOSSIER})
def create_contract(
    body: ContractCreate, who: CurrentPrincipal, services: Services, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Create a contract dossier as a draft (409 if the CFA already has this numeroInterne)."""
    saved = services.dossiers.create_contract(
        who,
        cerfa=body.cerfa,
        numero_interne=body.numeroInterne,
        opco=body.opco,
        npec=body.npec,
        idempotency_key=idempotency_key,
        request_body=body.model_dump(mode="json", exclude_none=True),
    )
    return saved_response(saved, services, who.role, status=201)


@router.get("/{contract_id}", response_model=ContractOut, responses={200: DOSSIER})
def get_contract(
    contract_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    version: Version = None,
    as_of: AsOf = None,
    at: Annotated[
        date | None,
        Query(description="the contract as of this day: its initial Cerfa with the accepted avenants in effect then"),
    ] = None,
) -> JSONResponse:
    """Read one dossier: state, OPCO, Cerfa, mandate and the problems that block its submission; with `version`
    or `asOf`, as it was then. With `at`, its `cerfa` is the one in effect that day (`asOf`,
    `amendmentsInEffect`)."""
    contract, then = dossier_then(services, who, contract_id, version, as_of)
    response = contract_response(contract, services, who.role, at=then)
    if at is None:
        return response
    body = {**json.loads(bytes(response.body)), **services.amendments.as_of(contract, at)}
    return JSONResponse(body, headers={k: v for k, v in response.headers.items() if k.lower() != "content-length"})


@router.get("/{contract_id}/events", response_model=list[EventOut])
def contract_events(contract_id: UUID, who: CurrentPrincipal, services: Services) -> list[dict[str, Any]]:
    """The dossier's full event history, oldest first: what happened, when, and which token did it (an auditor's
    without the NIRs, as the dossier)."""
    return [visible_event(record, who.role) for record in services.dossiers.history(who, contract_id)]


@router.put("/{contract_id}/cerfa", response_model=ContractOut, openapi_extra={"requestBody": CERFA_BODY})
def replace_cerfa(
    contract_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    document: Annotated[dict[str, Any], Body()],
    if_match: IfMatch = None,
) -> JSONResponse:
    """Replace the whole Cerfa of a draft (If-Match required)."""
    version = expected_version(if_match, required=True)
    saved = services.dossiers.replace_cerfa(who, contract_id, parse_cerfa(document), version)
    return saved_response(saved, services, who.role)


@router.patch("/{contract_id}/cerfa", response_model=ContractOut, openapi_extra={"requestBody": MERGE_PATCH_BODY})
async def patch_cerfa(
    contract_id: UUID, request: Request, who: CurrentPrincipal, services: Services, if_match: IfMatch = None
) -> JSONResponse:
    """Change part of the Cerfa of a draft with a JSON merge patch (RFC 7386): null removes a field."""
    version = expected_version(if_match, required=True)
    patch = await _merge_patch(request)
    saved = await run_in_threadpool(services.dossiers.patch_cerfa, who, contract_id, patch, version)
    return saved_response(saved, services, who.role)


@router.put("/{contract_id}/opco", response_model=ContractOut)
def choose_opco(
    contract_id: UUID,
    body: OpcoChoice,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Choose the OPCO explicitly (needed when the IDCC is 9999, 9998 or unknown), or null to route by IDCC."""
    version = expected_version(if_match, required=False)
    saved = services.dossiers.choose_opco(who, contract_id, body.opco, version, idempotency_key)
    return saved_response(saved, services, who.role)


@router.get("/{contract_id}/funding", response_model=FundingOut)
def contract_funding(contract_id: UUID, who: CurrentPrincipal, services: Services) -> dict[str, Any]:
    """The funding schedule by the rules of the contract's conclusion date (from the NPEC forecast; the contract as its
    accepted avenants leave it), side by side with the OPCO's échéancier and what was invoiced, paid and remains on
    each échéance; differences flagged."""
    contract = services.dossiers.contract(who, contract_id)
    return funding(contract, services.amendments.current_cerfa(contract))


@router.put("/{contract_id}/npec", response_model=ContractOut)
def forecast_npec(
    contract_id: UUID,
    body: NpecIn,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Set the forecast of the annual NPEC (null clears it): the funding schedule uses it until the OPCO commits."""
    version = expected_version(if_match, required=False)
    saved = services.dossiers.forecast_npec(who, contract_id, body.npec, version, idempotency_key)
    return saved_response(saved, services, who.role)


@router.post("/{contract_id}/mandate", response_model=ContractOut)
def record_mandate(
    contract_id: UUID,
    body: MandateIn,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record the employer's mandate: without it the CFA may not file the contract. The same mandate again changes
    nothing (200); replacing it with another needs If-Match (428 without, 412 if stale)."""
    saved = services.dossiers.record_mandate(
        who,
        contract_id,
        signed_on=body.signedOn,
        signatory=body.signatory.model_dump(),
        document_sha256=body.documentSha256,
        expected_version=expected_version(if_match, required=False),
        idempotency_key=idempotency_key,
    )
    return saved_response(saved, services, who.role)


@router.post("/{contract_id}/submission", status_code=202, response_model=ContractOut)
def submit(
    contract_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Ask for the dossier's transmission to its OPCO: needs the mandate and no blocking problem (else 409)."""
    saved = services.dossiers.submit(who, contract_id, expected_version(if_match, required=False), idempotency_key)
    return saved_response(saved, services, who.role, status=202)


@router.post("/{contract_id}/transmission/retry", response_model=ContractOut)
def retry_transmission(
    contract_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Un-park a dossier whose transmission failed too often: it is sent again at the worker's next round."""
    version = expected_version(if_match, required=False)
    saved = services.dossiers.resume_transmission(who, contract_id, version, idempotency_key)
    return saved_response(saved, services, who.role)


@router.post("/{contract_id}/cancellation", response_model=ContractOut)
def cancel(
    contract_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    body: Cancellation | None = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Cancel a draft dossier."""
    reason = body.reason if body else None
    version = expected_version(if_match, required=False)
    saved = services.dossiers.cancel(who, contract_id, reason, version, idempotency_key)
    return saved_response(saved, services, who.role)


async def _merge_patch(request: Request) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in {"application/json", "application/merge-patch+json"}:
        raise HTTPException(415, "send the patch as application/merge-patch+json (or application/json)")
    try:
        patch = json.loads(await request.body())
    except ValueError:
        raise InvalidValue("body", "json_invalid", "the body is not valid JSON") from None
    if not isinstance(patch, dict):
        raise InvalidValue("body", "object_expected", "a merge patch of the Cerfa is a JSON object")
    return patch
