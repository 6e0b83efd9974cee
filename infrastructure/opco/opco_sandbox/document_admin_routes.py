"""/_sandbox/documents: what the OPCOs received (conventions, documents, certificats), with each one's receipts.

The operator's only, like the rest of /_sandbox (`admin_auth`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.admin_auth import operator
from infrastructure.opco.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco.opco_sandbox.wire import SandboxJSON

router = APIRouter(prefix="/_sandbox", dependencies=[Depends(operator)])
SandboxDep = Annotated[Sandbox, Depends(current_sandbox)]


@router.get("/documents")
def received_documents(sandbox: SandboxDep, opco: Annotated[Opco | None, Query()] = None) -> SandboxJSON:
    """Every document received, oldest first; `receipts` > 1: the same document was sent again."""
    return SandboxJSON([item.as_admin() for item in sandbox.documents.all(opco)])


@router.delete("/documents")
def forget_documents(sandbox: SandboxDep) -> Response:
    sandbox.documents.clear()
    return Response(status_code=204)
