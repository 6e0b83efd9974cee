"""How an invoice is written on the wire: JSON body plus ETag, Location and X-Position headers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi.responses import JSONResponse

from application.invoices.invoices import SavedInvoice
from domain.invoicing.invoice import Invoice
from domain.invoicing.states import InvoiceState
from domain.opco.opcos import Opco
from interfaces.api.contracts.representation import attempts_body, etag
from interfaces.bootstrap import Container


def invoice_body(invoice: Invoice, services: Container) -> dict[str, Any]:
    amount, paid = invoice.amount, invoice.paid
    return {
        "id": str(invoice.id),
        "numeroInterneFacture": invoice.numero_interne_facture,
        "numero": invoice.numero,
        "cfaSiret": invoice.cfa_siret,
        "opco": invoice.opco,
        "date": invoice.invoice_date.isoformat(),
        "state": invoice.state.value,
        "amount": str(amount),
        "paid": str(paid),
        "unpaid": str(amount - paid),
        "lines": invoice.lines,
        "payments": [_jsonable(p) for p in invoice.payments],
        "paymentsReportedBy": "opco" if services.invoices.payments_from_opco(invoice) else "cfa",
        "transmission": _transmission(invoice, services),
        "numeroExterne": invoice.numero_externe,
        "opcoNumeroInterneFacture": invoice.opco_numero_interne,
        "numeroInterneDocument": invoice.numero_interne_document,
        "document": _document(invoice),
        "opcoState": invoice.opco_state,
        "opcoComment": invoice.opco_comment,
        "cancelReason": invoice.cancel_reason,
        "version": invoice.version,
        "createdAt": invoice.created_on.isoformat(),
        "updatedAt": invoice.modified_on.isoformat(),
    }


def _transmission(invoice: Invoice, services: Container) -> dict[str, Any] | None:
    if invoice.state in (InvoiceState.DRAFTED,) or (
        invoice.state is InvoiceState.CANCELLED and not invoice.transmission["history"]
    ):
        return None
    waiting = invoice.state is InvoiceState.SUBMITTED and not services.accounts.usable(
        invoice.cfa_siret, Opco(invoice.opco)
    )
    return attempts_body(invoice.transmission, waiting)


def _document(invoice: Invoice) -> dict[str, Any] | None:
    if invoice.document is None:
        return None
    return {
        "sha256": invoice.document["digest"],
        "size": invoice.document["size"],
        "mediaType": invoice.document["mediaType"],
        "source": invoice.document.get("source", "cfa"),
        "href": f"/invoices/{invoice.id}/document",
    }


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) if isinstance(v, date | datetime) else v for k, v in record.items()}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def invoice_response(
    invoice: Invoice, services: Container, *, status: int = 200, position: int | None = None
) -> JSONResponse:
    headers = {"ETag": etag(invoice.version), "Location": f"/invoices/{invoice.id}"}
    if position is not None:
        headers["X-Position"] = str(position)
    return JSONResponse(invoice_body(invoice, services), status_code=status, headers=headers)


def saved_invoice_response(saved: SavedInvoice, services: Container, status: int = 200) -> JSONResponse:
    response = invoice_response(saved.invoice, services, status=status, position=saved.position)
    if saved.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
