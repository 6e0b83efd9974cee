"""The invoices' read side for front-ends: GET /invoices, and the invoice parts of /dashboard and /attention
(interfaces/api/read_models/listing.py calls `invoices_caught_up`, `invoice_dashboard` and `invoice_attention`)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from application.access.access import Principal
from application.read_models.invoice_status import (
    EcheanceRow,
    InvoiceAttentionItem,
    InvoiceCursor,
    InvoiceCursorExpired,
    InvoiceFilter,
    InvoiceRow,
    Tally,
    ViewBehind,
)
from application.read_models.invoice_status_queries import InvoiceStatusQueries
from domain.errors import InvalidValue
from domain.invoicing.states import InvoiceState
from domain.opco.opcos import Opco
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.invoices.invoice_listing_schemas import InvoicePageOut
from interfaces.api.problem_details import problem
from interfaces.bootstrap import Container

router = APIRouter(tags=["status"])
READ_YOUR_WRITES_SECONDS = 2.0  # as GET /contracts
CENT = Decimal("0.01")
_CURSOR_TAG = "inv"

MinPosition = Annotated[
    int | None,
    Query(alias="minPosition", ge=0, description="wait (2 s at most) until the read model has this log position"),
]


@router.get("/invoices", response_model=InvoicePageOut)
async def list_invoices(
    request: Request,
    who: CurrentPrincipal,
    services: Services,
    state: Annotated[list[InvoiceState] | None, Query(description="repeat for several")] = None,
    opco: Opco | None = None,
    contract_id: Annotated[UUID | None, Query(alias="contractId", description="invoices with a line on it")] = None,
    numero_interne_facture: Annotated[
        str | None, Query(alias="numeroInterneFacture", min_length=1, max_length=50, description="its start")
    ] = None,
    updated_since: Annotated[datetime | None, Query(alias="updatedSince")] = None,
    parked: bool | None = None,
    cfa_siret: Annotated[
        str | None, Query(alias="cfaSiret", pattern=r"^[0-9]{14}$", description="the operator: one CFA's only")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page")] = None,
    min_position: MinPosition = None,
) -> JSONResponse:
    """The CFA's invoices, last changed first, by keyset pages: a walk sees each invoice exactly once, as it was
    when the walk began, even while invoices change. `Link: <…>; rel="next"` points to the next page. A CFA token
    sees its own invoices only; the operator's sees every CFA's, or one CFA's with `cfaSiret`."""
    if not await invoices_caught_up(services, min_position):
        return _not_yet()
    where = InvoiceFilter(
        states=tuple(s.value for s in state or ()),
        opco=opco.value if opco else None,
        contract_id=contract_id,
        numero_prefix=numero_interne_facture,
        updated_since=updated_since,
        parked=parked,
    )
    queries = _queries(services)
    try:
        page = await run_in_threadpool(queries.page, who, where, limit, _decode(cursor), cfa_siret)
    except ViewBehind:
        return _not_yet()
    except InvoiceCursorExpired as expired:
        return problem(410, "Cursor expired", f"{expired}: start the walk again", "cursor-expired")
    next_cursor = _encode(page.next_cursor) if page.next_cursor else None
    headers = {"X-Position": str(page.as_of)}
    if next_cursor:
        headers["Link"] = f'<{request.url.include_query_params(cursor=next_cursor)}>; rel="next"'
    body = {"items": [invoice_item(row) for row in page.items], "nextCursor": next_cursor}
    return JSONResponse(body, headers=headers)


# -- for /dashboard and /attention (interfaces/api/read_models/listing.py) ---------------------------------------------


async def invoices_caught_up(services: Container, position: int | None) -> bool:
    """Read-your-writes on the invoices' read model: at `position` already, or within 2 s."""
    if position is None:
        return True
    return await run_in_threadpool(_queries(services).wait_for, position, READ_YOUR_WRITES_SECONDS)


async def invoice_dashboard(who: Principal, services: Container) -> dict[str, Any]:
    """The `invoices` object of GET /dashboard."""
    queries = _queries(services)
    board = await queries.adashboard(who)
    return {
        "byState": {
            state: {"count": f.count, "amount": _euros(f.amount), "paid": _euros(f.paid)}
            for state, f in board.by_state.items()
        },
        "invoiced": _euros(board.invoiced),
        "paid": _euros(board.paid),
        "unpaid": _euros(board.unpaid),
        "overdue": _tally(board.overdue, "oldestSentOn"),
        "echeancesNotInvoiced": _tally(board.echeances_not_invoiced, "oldestOpeningDate"),
        "parked": board.parked,
        "paymentDays": queries.policy.payment_days,
        "asOf": board.as_of,
    }


async def invoice_attention(who: Principal, services: Container) -> list[dict[str, Any]]:
    """The invoice and échéance items of GET /attention, each with its `kind`."""
    items = await run_in_threadpool(_queries(services).attention, who)
    return [attention_item(item) for item in items]


def attention_item(item: InvoiceAttentionItem) -> dict[str, Any]:
    if item.invoice is not None:
        return {"kind": "invoice", **invoice_item(item.invoice), "reasons": list(item.reasons)}
    assert item.echeance is not None
    return {"kind": "echeance", **echeance_item(item.echeance), "reasons": list(item.reasons)}


def invoice_item(row: InvoiceRow) -> dict[str, Any]:
    return {
        "id": str(row.invoice_id),
        "numeroInterneFacture": row.numero_interne_facture,
        "cfaSiret": row.cfa_siret,
        "date": row.invoice_date.isoformat(),
        "state": row.state,
        "opco": row.opco,
        "amount": _euros(row.amount),
        "paid": _euros(row.paid),
        "unpaid": _euros(row.unpaid),
        "numeroExterne": row.numero_externe,
        "opcoState": row.opco_state,
        "parked": row.parked,
        "lineCount": row.line_count,
        "contractIds": [str(ident) for ident in row.contract_ids],
        "sentAt": row.sent_at.isoformat() if row.sent_at else None,
        "createdAt": row.created_at.isoformat(),
        "updatedAt": row.updated_at.isoformat(),
    }


def echeance_item(row: EcheanceRow) -> dict[str, Any]:
    return {
        "contractId": str(row.contract_id),
        "numeroInterne": row.numero_interne,
        "numeroExterne": row.numero_externe,
        "cfaSiret": row.cfa_siret,
        "opco": row.opco,
        "apprenticeName": row.apprentice_name,
        "employerName": row.employer_name,
        "numeroEcheance": row.numero,
        "codification": row.codification,
        "montantTotal": _euros(row.total),
        "invoiced": _euros(row.invoiced),
        "paid": _euros(row.paid),
        "remaining": _euros(row.remaining),
        "opensOn": row.opens_on.isoformat() if row.opens_on else None,
        "pendingInvoice": row.pending_invoice,
    }


# -- helpers ------------------------------------------------------------------------------------------------


def _queries(services: Container) -> InvoiceStatusQueries:
    queries = services.invoice_status
    if queries is None:
        raise RuntimeError("the invoices' read model is not wired in this container (interfaces/bootstrap.py)")
    return queries


def _not_yet() -> JSONResponse:
    return problem(
        503,
        "Read model behind",
        f"the read model has not reached that position within {READ_YOUR_WRITES_SECONDS:.0f} s: retry",
        "read-model-behind",
        headers={"Retry-After": "1"},
    )


def _encode(cursor: InvoiceCursor) -> str:
    raw = f"{_CURSOR_TAG}.{cursor.as_of}.{cursor.position}.{cursor.invoice_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(value: str | None) -> InvoiceCursor | None:
    if value is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        tag, as_of, position, ident = raw.split(".")
        if tag != _CURSOR_TAG:
            raise ValueError(tag)
        return InvoiceCursor(int(as_of), int(position), UUID(ident))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidValue("cursor", "cursor_invalid", "not a cursor of this list: use nextCursor as given") from None


def _euros(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def _tally(tally: Tally, oldest: str) -> dict[str, Any]:
    return {
        "count": tally.count,
        "amount": _euros(tally.amount),
        oldest: tally.oldest.isoformat() if tally.oldest else None,
    }
