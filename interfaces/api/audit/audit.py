"""GET /contracts/{id}/audit: the dossier's audit file, for the auditor and admin roles (docs/audit.md)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from application.access.access import Role
from application.errors import Forbidden
from infrastructure.audit.audit_trail import audit_file
from interfaces.api.access.auth import CurrentPrincipal, Services

router = APIRouter(prefix="/contracts", tags=["audit"])
AUDIT_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})
AUDIT_FILE = {
    "description": "the audit file (JSON): every stored event as stored and read, the dossier after each, their"
    " digests, each one's Merkle path to a checkpoint and the checkpoints to the latest; check it offline with"
    " `convergence audit check FILE` (docs/audit.md)",
    "content": {"application/json": {"schema": {"type": "object"}}},
}


@router.get(
    "/{contract_id}/audit",
    responses={
        200: AUDIT_FILE,
        403: {"description": "A token of the `frontend` role (`forbidden`): the file is for auditors and admins."},
        501: {"description": "The in-memory store (tests) keeps no integrity chain."},
    },
)
def get_contract_audit_file(contract_id: UUID, who: CurrentPrincipal, services: Services) -> JSONResponse:
    """The dossier's audit file, to keep and check later without the service (auditor and admin roles)."""
    if who.role not in AUDIT_ROLES:
        raise Forbidden("the audit file is for the auditor and admin roles")
    services.dossiers.contract(who, contract_id)  # 404 for an unknown dossier or another CFA's
    if services.settings.database_url.startswith("memory://"):
        raise HTTPException(501, "the in-memory store keeps no integrity chain: no audit file")
    document: dict[str, Any] = audit_file(services.store, services.dossiers, contract_id)
    return JSONResponse(document, headers={"Content-Disposition": f'attachment; filename="audit-{contract_id}.json"'})
