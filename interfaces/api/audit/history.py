"""The history of a dossier or an invoice, event by event with who acted; and a printable timeline of a dossier."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from application.audit.history import History
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.audit.timeline import timeline_page
from interfaces.bootstrap import Container

router = APIRouter(tags=["audit"])


class HistoryEntryOut(BaseModel):
    version: int
    type: str
    aggregate: str
    at: datetime
    actor: dict[str, Any]
    data: dict[str, Any]
    transmission: dict[str, Any] | None = None
    rupture: int | None = None
    amendment: int | None = None


HISTORY = (
    "Every event, oldest first: its version, type, time, who acted (`actor`: the token's name and CFA and the person"
    " it named in X-Acting-Person, the operator, or the worker; `kind: unknown` for events recorded before actors"
    " were), its data in plain JSON (the NIR masked for auditors: application/access/exposure.py), and for each"
    " transmission event what the OPCO answered (`transmission`)."
)


@router.get(
    "/contracts/{contract_id}/history",
    response_model=list[HistoryEntryOut],
    response_model_exclude_none=True,
    description=f"The dossier's history, with its ruptures' and avenants' events (`rupture`, `amendment`: which"
    f" one). {HISTORY}",
)
def get_contract_history(contract_id: UUID, who: CurrentPrincipal, services: Services) -> list[dict[str, Any]]:
    return _history(services).of_contract(who, contract_id)


@router.get(
    "/invoices/{invoice_id}/history",
    response_model=list[HistoryEntryOut],
    response_model_exclude_none=True,
    description=f"The invoice's history. {HISTORY}",
)
def get_invoice_history(invoice_id: UUID, who: CurrentPrincipal, services: Services) -> list[dict[str, Any]]:
    return _history(services).of_invoice(who, invoice_id)


@router.get("/contracts/{contract_id}/timeline", response_class=HTMLResponse)
def get_contract_timeline(contract_id: UUID, who: CurrentPrincipal, services: Services) -> HTMLResponse:
    """The dossier's history as a page to read or print (HTML): each event with its time, who acted and what it
    changed or what the OPCO answered."""
    contract = services.dossiers.contract(who, contract_id)
    entries = _history(services).of_contract(who, contract_id)
    return HTMLResponse(timeline_page(contract, entries))


def _history(services: Container) -> History:
    return History(services.dossiers, services.invoices)
