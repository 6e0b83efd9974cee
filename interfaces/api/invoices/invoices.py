"""Invoices: create, read, submit, cancel, record a payment by hand; and their event history."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from domain.invoicing.lines import LineRequest
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.contracts.contracts import IdempotencyKey, IfMatch
from interfaces.api.contracts.schemas import Cancellation, EventOut
from interfaces.api.invoices.invoice_representation import invoice_response, saved_invoice_response
from interfaces.api.invoices.invoice_schemas import InvoiceCreate, InvoiceOut, PaymentIn
from interfaces.api.preconditions import expected_version

router = APIRouter(prefix="/invoices", tags=["invoices"])
INVOICE = {"model": InvoiceOut, "description": "the invoice; ETag = its version"}


@router.post("", status_code=201, response_model=InvoiceOut, responses={201: INVOICE})
def create_invoice(
    body: InvoiceCreate, who: CurrentPrincipal, services: Services, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Draft an invoice of accepted contracts' échéances; its lines are booked on the contracts at once.
    422 lists the values that break a rule, 409 the échéances not open yet or held by a pending invoice."""
    saved = services.invoices.create(
        who,
        numero_interne_facture=body.numeroInterneFacture,
        invoice_date=body.date,
        lines=[LineRequest(ln.contractId, ln.numeroEcheance, ln.kind, ln.amount, ln.quantity) for ln in body.lines],
        idempotency_key=idempotency_key,
        request_body=body.model_dump(mode="json", exclude_none=True),
    )
    return saved_invoice_response(saved, services, status=201)


@router.get("/{invoice_id}", response_model=InvoiceOut, responses={200: INVOICE})
def get_invoice(invoice_id: UUID, who: CurrentPrincipal, services: Services) -> JSONResponse:
    """Read one invoice: state, lines, payments and its sending to the OPCO."""
    return invoice_response(services.invoices.invoice(who, invoice_id), services)


@router.get("/{invoice_id}/events", response_model=list[EventOut])
def invoice_events(invoice_id: UUID, who: CurrentPrincipal, services: Services) -> list[dict[str, Any]]:
    """The invoice's full event history, oldest first: what happened, when, and which token did it."""
    return services.invoices.history(who, invoice_id)


@router.post("/{invoice_id}/submission", status_code=202, response_model=InvoiceOut)
def submit_invoice(
    invoice_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Ask for the invoice's transmission to its OPCO."""
    saved = services.invoices.submit(who, invoice_id, expected_version(if_match, required=False), idempotency_key)
    return saved_invoice_response(saved, services, status=202)


@router.post("/{invoice_id}/cancellation", response_model=InvoiceOut)
def cancel_invoice(
    invoice_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    body: Cancellation | None = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Cancel an invoice not yet sent: its échéances are free again (409 once it may have reached the OPCO)."""
    reason = body.reason if body else None
    version = expected_version(if_match, required=False)
    saved = services.invoices.cancel(who, invoice_id, reason, version, idempotency_key)
    return saved_invoice_response(saved, services)


@router.post("/{invoice_id}/transmission/retry", response_model=InvoiceOut)
def retry_invoice_transmission(
    invoice_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Un-park an invoice whose transmission failed too often."""
    version = expected_version(if_match, required=False)
    saved = services.invoices.resume_transmission(who, invoice_id, version, idempotency_key)
    return saved_invoice_response(saved, services)


@router.post("/{invoice_id}/payments", response_model=InvoiceOut)
def record_payment(
    invoice_id: UUID,
    body: PaymentIn,
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record a payment received, where the OPCO does not report payments over the API (409 where it does).
    A referenceVirement already recorded on the invoice is 409: one transfer is one payment."""
    saved = services.invoices.record_payment(
        who,
        invoice_id,
        amount=body.amount,
        paid_on=body.paidOn,
        reference_virement=body.referenceVirement,
        expected_version=expected_version(if_match, required=False),
        idempotency_key=idempotency_key,
    )
    return saved_invoice_response(saved, services)


async def _document_body(request: Request) -> bytes:
    """The request body as sent, whatever its Content-Type (the content itself says what it is)."""
    return await request.body()


DOCUMENT_BODY = {"required": True, "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}


@router.put("/{invoice_id}/document", response_model=InvoiceOut, openapi_extra={"requestBody": DOCUMENT_BODY})
def attach_invoice_document(
    invoice_id: UUID,
    content: Annotated[bytes, Depends(_document_body)],
    who: CurrentPrincipal,
    services: Services,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Upload the invoice's PDF made by the CFA's own software: it is sent instead of Convergence's. Before
    submission only (409 after); 422 (`document`, `document_type`) if the body is not a PDF by its content, 413
    past CONVERGENCE_MAX_DOCUMENT_BYTES. The history keeps its SHA-256."""
    version = expected_version(if_match, required=False)
    saved = services.invoice_documents.attach(who, invoice_id, content, version, idempotency_key)
    return saved_invoice_response(saved, services)


@router.get(
    "/{invoice_id}/document",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the invoice's PDF"}},
)
def get_invoice_document(invoice_id: UUID, who: CurrentPrincipal, services: Services) -> Response:
    """The invoice's PDF as it was, or will be, sent: the uploaded one, else the one Convergence makes from the
    CFA's billing profile (409 `billing_profile_missing` without one). Repr-Digest holds its SHA-256."""
    document = services.invoice_documents.document(who, invoice_id)
    digest = base64.b64encode(bytes.fromhex(document.ref.digest)).decode()
    headers = {
        "Repr-Digest": f"sha-256=:{digest}:",
        "Content-Disposition": f'inline; filename="invoice-{invoice_id}.pdf"',
    }
    return Response(document.content, media_type=document.ref.media_type.value, headers=headers)
