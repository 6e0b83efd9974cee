"""Invoices at the OPCO, under /opcos/{CODE}: POST /v1/factures, GET /v1/factures, GET /v2/factures/etats.

`/v1/Factures` (capital F, as the SOR hosts AKTO, ATLAS and Mobilités are called) is the same resource: real clients
use both spellings (opco-wire.md §4.1, §8).

Only where the OPCO offers them (domain.opco_catalogue: `invoices`, `invoice_states`); elsewhere 501 NOT_SUPPORTED.
Both version prefixes are accepted on every route, as for dossiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from domain.opco_catalogue import CATALOGUE
from domain.opcos import Opco
from infrastructure.opco_sandbox.auth import Caller, caller, known_opco
from infrastructure.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco_sandbox.invoice_lifecycle import TRANSMISE, invoice_progress
from infrastructure.opco_sandbox.invoice_payload import read_invoice
from infrastructure.opco_sandbox.invoice_records import Invoice, StoredInvoice
from infrastructure.opco_sandbox.invoice_rules import invoice_errors
from infrastructure.opco_sandbox.invoice_wire import invoice_wire
from infrastructure.opco_sandbox.opco_routes import NOT_FOUND_AS_400, api_version
from infrastructure.opco_sandbox.records import StoredDossier
from infrastructure.opco_sandbox.wire import SandboxJSON

router = APIRouter()
CallerDep = Annotated[Caller, Depends(caller)]
SandboxDep = Annotated[Sandbox, Depends(current_sandbox)]


def not_supported(opco: Opco, what: str) -> SandboxRefusal:
    return SandboxRefusal(501, [ApiError("NOT_SUPPORTED", f"{opco.value} ne propose pas {what} par l'API")], opco)


def invoicing_opco(opco: Annotated[Opco, Depends(known_opco)]) -> Opco:
    if not CATALOGUE[opco].invoices:
        raise not_supported(opco, "la facturation")
    return opco


def invoice_states_opco(opco: Annotated[Opco, Depends(invoicing_opco)]) -> Opco:
    if not CATALOGUE[opco].invoice_states:
        raise not_supported(opco, "l'état des factures")
    return opco


INVOICING = [Depends(api_version), Depends(invoicing_opco)]


@router.post("/{code}/{version}/factures", dependencies=INVOICING)
@router.post("/{code}/{version}/Factures", dependencies=INVOICING, include_in_schema=False)  # SOR hosts' spelling
def submit_invoice(who: CallerDep, sandbox: SandboxDep, payload: Annotated[dict[str, Any], Body()]) -> SandboxJSON:
    if isinstance(payload.get("numeroInterneFacture"), str):
        sandbox.stats.invoice_post_received(who.opco, payload["numeroInterneFacture"])
    invoice = read_invoice(payload, who.opco)
    if not invoice.siret.startswith(who.key.siren):
        error = ApiError("CLE_API_INVALIDE", "Cette facture n'est pas celle du CFA de la clé API")
        raise SandboxRefusal(403, [error], who.opco)
    stored = _store(sandbox, who, invoice)
    sandbox.stats.invoice_stored(who.opco, stored.numero_interne)
    body = {
        "numeroInterneFacture": stored.numero_interne,
        "numeroExterneFacture": stored.numero_externe,
        "etatFacture": TRANSMISE,
    }
    return SandboxJSON(body, status_code=201)


def _store(sandbox: Sandbox, who: Caller, invoice: Invoice) -> StoredInvoice:
    """Judged and stored in one step of the store (two invoices cannot both take what is left of an échéance)."""
    now, dossiers = sandbox.now(), _named_dossiers(sandbox, who, invoice)

    def admit(existing: Sequence[StoredInvoice]) -> None:
        errors = invoice_errors(invoice, dossiers, existing, now, sandbox.config)
        if errors:
            raise SandboxRefusal(422, errors, who.opco)

    numbered = _with_opco_numbers(invoice, dossiers)
    stored = sandbox.store.add_invoice(who.opco, who.key.siren, numbered, now, sandbox.config.partial_payment, admit)
    if stored is None:
        sandbox.stats.duplicate_invoice_refused()
        raise _duplicate(sandbox, who, invoice.numero_interne)
    return stored


def _named_dossiers(sandbox: Sandbox, who: Caller, invoice: Invoice) -> dict[str, StoredDossier]:
    found = (
        sandbox.store.find_dossier(who.opco, who.key.siren, "numeroInterne", item.numero_interne)
        for item in invoice.dossiers
    )
    return {dossier.numero_interne: dossier for dossier in found if dossier is not None}


def _with_opco_numbers(invoice: Invoice, dossiers: dict[str, StoredDossier]) -> Invoice:
    """Keeps the OPCO's numeroExterneDossier of each dossier (the CFA may have left it out)."""
    items = tuple(
        replace(item, numero_externe=dossiers[item.numero_interne].numero_externe)
        if item.numero_interne in dossiers
        else item
        for item in invoice.dossiers
    )
    return replace(invoice, dossiers=items)


def _duplicate(sandbox: Sandbox, who: Caller, numero: str) -> SandboxRefusal:
    first = sandbox.store.find_invoice(who.opco, who.key.siren, numero)
    known_as = f" (numéro externe {first.numero_externe})" if first else ""
    description = f"Une facture de numéro interne {numero} existe déjà{known_as}"
    return SandboxRefusal(409, [ApiError("FACTURE_EXISTANTE", description, "numeroInterneFacture")], who.opco)


@router.get("/{code}/{version}/factures", dependencies=INVOICING)
@router.get("/{code}/{version}/Factures", dependencies=INVOICING, include_in_schema=False)
def read_invoice_state(
    who: CallerDep, sandbox: SandboxDep, numero: Annotated[str | None, Query(alias="numeroInterneFacture")] = None
) -> SandboxJSON:
    if not numero:
        error = ApiError("PARAMETRE_MANQUANT", "Indiquez numeroInterneFacture", "numeroInterneFacture")
        raise SandboxRefusal(400, [error], who.opco)
    stored = sandbox.store.find_invoice(who.opco, who.key.siren, numero)
    if stored is None:
        status = 400 if who.opco in NOT_FOUND_AS_400 else 404
        error = ApiError("FACTURE_INCONNUE", f"Aucune facture de numéro interne {numero}")
        raise SandboxRefusal(status, [error], who.opco)
    return SandboxJSON(invoice_wire(stored, invoice_progress(stored, sandbox.now(), sandbox.config)))


@router.get("/{code}/{version}/factures/etats", dependencies=[Depends(api_version), Depends(invoice_states_opco)])
def invoice_states(
    who: CallerDep, sandbox: SandboxDep, page: Annotated[int, Query(alias="numeroPage", ge=1)] = 1
) -> SandboxJSON:
    size, now = sandbox.config.page_size, sandbox.now()
    total = sandbox.store.count_invoices(who.opco, who.key.siren)
    invoices = sandbox.store.invoices(who.opco, who.key.siren, offset=(page - 1) * size, limit=size)
    items = [invoice_wire(stored, invoice_progress(stored, now, sandbox.config)) for stored in invoices]
    return SandboxJSON({"total": total, "count": len(items), "page": page, "factures": items})
