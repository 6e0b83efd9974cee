"""/_sandbox/factures and /_sandbox/invoice-settings: observe and forget the invoices, switch partial payment.

The operator's only, like the rest of /_sandbox (`admin_auth`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from starlette.responses import Response

from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.admin_auth import operator
from infrastructure.opco.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco.opco_sandbox.invoice_lifecycle import invoice_progress
from infrastructure.opco.opco_sandbox.invoice_wire import invoice_wire
from infrastructure.opco.opco_sandbox.wire import SandboxJSON

router = APIRouter(prefix="/_sandbox", dependencies=[Depends(operator)])
SandboxDep = Annotated[Sandbox, Depends(current_sandbox)]


@router.get("/factures")
def stored_invoices(sandbox: SandboxDep, opco: Annotated[Opco | None, Query()] = None) -> SandboxJSON:
    """Every invoice stored (of every CFA), as the OPCO shows it, with its OPCO, CFA and receipt time, what arrived
    of its PDF (`fichier`: SHA-256, size in bytes, file name) and its `facture` part as read."""
    now = sandbox.now()
    return SandboxJSON(
        [
            {
                "opco": stored.opco.value,
                "siren": stored.siren,
                "receivedAt": stored.submitted_at.isoformat(),
                "partialPayment": stored.partial,
                **invoice_wire(stored, invoice_progress(stored, now, sandbox.config)),
                "fichier": {
                    "sha256": stored.document.sha256,
                    "taille": stored.document.size,
                    "nom": stored.document.name,
                },
                "facture": stored.invoice.to_record(),
            }
            for stored in sandbox.store.invoices(opco)
        ]
    )


@router.delete("/factures")
def forget_invoices(sandbox: SandboxDep) -> Response:
    """Forgets every invoice (the échéances are free again); dossiers, keys and statistics stay."""
    sandbox.store.clear_invoices()
    return Response(status_code=204)


@router.get("/invoice-settings")
def invoice_settings(sandbox: SandboxDep) -> SandboxJSON:
    return SandboxJSON(_settings(sandbox))


@router.put("/invoice-settings")
def change_invoice_settings(changes: Annotated[dict[str, Any], Body()], sandbox: SandboxDep) -> SandboxJSON:
    """`partialPayment`: whether the invoices received from now on are paid in two steps (those already received
    keep their way). This process only, until it stops."""
    unknown = set(changes) - {"partialPayment"}
    if unknown or not isinstance(changes.get("partialPayment", False), bool):
        error = ApiError("REGLAGES_INVALIDES", "Seul partialPayment (booléen) se règle ici")
        raise SandboxRefusal(400, [error])
    sandbox.config.partial_payment = changes.get("partialPayment", sandbox.config.partial_payment)
    return SandboxJSON(_settings(sandbox))


def _settings(sandbox: Sandbox) -> dict[str, Any]:
    config = sandbox.config
    return {
        "partialPayment": config.partial_payment,
        "refusalMarker": config.invoice_refusal_marker,
        "instructionDelay": config.invoice_instruction_delay,
        "validationDelay": config.invoice_validation_delay,
        "paymentDelay": config.invoice_payment_delay,
    }
