"""POST /contracts/{id}/erasure: erase the dossier's personal data for good (crypto-shredding, docs/privacy.md)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.contracts.contracts import IdempotencyKey

router = APIRouter(prefix="/contracts", tags=["privacy"])


class ErasureOut(BaseModel):
    contractId: str
    numeroInterne: str
    erasedAt: str
    alreadyErased: bool
    fields: list[str]
    documentsDeleted: int
    readModelRowsCleared: int
    dataKey: str


@router.post(
    "/{contract_id}/erasure",
    response_model=ErasureOut,
    responses={
        200: {"description": "the personal data were erased (now, or already: `alreadyErased`)"},
        403: {"description": "only an admin token of the dossier's CFA, or the operator"},
    },
)
def erase_personal_data(
    contract_id: UUID, who: CurrentPrincipal, services: Services, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Erase the apprentice's and the maîtres' personal data from the dossier: its data key is destroyed, so the
    events (kept as they are) read them as absent, the documents of the dossier and the PDFs of its invoices are
    deleted, and the lists lose the name. The dossier stays, replays and can still be listed by its numbers.
    Erasing again answers 200 with `alreadyErased`."""
    erasure = services.erasures.erase(who, contract_id, idempotency_key)
    body: dict[str, Any] = erasure.to_json()
    headers = {"ETag": f'"{erasure.contract.version}"'}
    if erasure.position is not None:
        headers["X-Position"] = str(erasure.position)
    if erasure.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body, headers=headers)
