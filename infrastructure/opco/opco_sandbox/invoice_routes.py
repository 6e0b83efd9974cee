"""Invoices at the OPCO, under /opcos/{CODE}: POST /v1/factures (multipart, `invoice_form`), GET /v1/factures,
GET /v2/factures/etats.

`/v1/Factures` (capital F, as the SOR hosts AKTO, ATLAS and Mobilités are called) is the same resource: real clients
use both spellings (opco-wire.md §4.1, §8).

Only where the OPCO offers them (domain.opco.opco_catalogue: `invoices`, `invoice_states`); elsewhere 501 NOT_SUPPORTED.
Both version prefixes are accepted on every route, as for dossiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.auth import Caller, caller, known_opco
from infrastructure.opco.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco.opco_sandbox.invoice_form import Submission, submitted_invoice
from infrastructure.opco.opco_sandbox.invoice_lifecycle import invoice_progress
from infrastructure.opco.opco_sandbox.invoice_records import Invoice, ReceivedFile, StoredInvoice
from infrastructure.opco.opco_sandbox.invoice_rules import invoice_errors
from infrastructure.opco.opco_sandbox.invoice_wire import invoice_wire
from infrastructure.opco.opco_sandbox.opco_routes import NOT_FOUND_AS_400, api_version
from infrastructure.opco.opco_sandbox.records import StoredDossier
from infrastructure.opco.opco_sandbox.wire import SandboxJSON

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
def submit_invoice(
    who: CallerDep, sandbox: SandboxDep, submission: Annotated[Submission, Depends(submitted_invoice)]
) -> SandboxJSON:
    """multipart/form-data: `facture` (JSON) and `fichier` (the PDF); 200 with the OPCO's numbers of both, as the
    real OPCOs answer (opco-wire.md §5, §8)."""
    if submission.numero is not None:
        sandbox.stats.invoice_post_received(who.opco, submission.numero)
    if submission.invoice is None or submission.document is None:
        raise SandboxRefusal(400, submission.errors, who.opco)
    if not submission.invoice.siret.startswith(who.key.siren):
        error = ApiError("CLE_API_INVALIDE", "Cette facture n'est pas celle du CFA de la clé API", "siretEmetteur")
        raise SandboxRefusal(403, [error], who.opco)
    stored = _store(sandbox, who, submission.invoice, submission.document)
    sandbox.stats.invoice_stored(who.opco, stored.numero)
    body = {
        "numeroInterneFacture": stored.numero_interne_facture,
        "numeroInterneDocument": stored.numero_interne_document,
    }
    return SandboxJSON(body)


def _store(sandbox: Sandbox, who: Caller, invoice: Invoice, document: ReceivedFile) -> StoredInvoice:
    """Judged and stored in one step of the store (two invoices cannot both take what is left of an échéance)."""
    now, dossiers = sandbox.now(), _named_dossiers(sandbox, who, invoice)

    def admit(existing: Sequence[StoredInvoice]) -> None:
        errors = invoice_errors(invoice, dossiers, existing, now, sandbox.config)
        if errors:
            raise SandboxRefusal(422, errors, who.opco)

    found = _with_numeros_internes(invoice, dossiers)
    partial = sandbox.config.partial_payment
    stored, created = sandbox.store.add_invoice(who.opco, who.key.siren, found, document, now, partial, admit)
    if created:
        return stored
    sandbox.stats.duplicate_invoice_refused()
    raise _duplicate(who, stored)


def _named_dossiers(sandbox: Sandbox, who: Caller, invoice: Invoice) -> dict[str, StoredDossier]:
    """The CFA's dossiers at this OPCO its lines name, by numeroExterne."""
    found = (
        sandbox.store.find_dossier(who.opco, who.key.siren, "numeroExterne", numero)
        for numero in dict.fromkeys(line.numero_dossier for line in invoice.lignes)
    )
    return {dossier.numero_externe: dossier for dossier in found if dossier is not None}


def _with_numeros_internes(invoice: Invoice, dossiers: dict[str, StoredDossier]) -> Invoice:
    """Keeps on each line the numeroInterne of the dossier it bills, which the OPCO shows in `dossiers`."""
    lines = tuple(
        replace(line, numero_interne_dossier=dossiers[line.numero_dossier].numero_interne)
        if line.numero_dossier in dossiers
        else line
        for line in invoice.lignes
    )
    return replace(invoice, lignes=lines)


def _duplicate(who: Caller, first: StoredInvoice) -> SandboxRefusal:
    description = (
        f"Une facture de numéro {first.numero} de ce SIRET existe déjà : numéro interne {first.numero_interne_facture}"
    )
    return SandboxRefusal(409, [ApiError("FACTURE_EXISTANTE", description, "numero")], who.opco)


@router.get("/{code}/{version}/factures", dependencies=INVOICING)
@router.get("/{code}/{version}/Factures", dependencies=INVOICING, include_in_schema=False)
def read_invoice_state(
    who: CallerDep,
    sandbox: SandboxDep,
    numero_interne: Annotated[str | None, Query(alias="numeroInterneFacture")] = None,
    numero: Annotated[str | None, Query(alias="numero")] = None,
) -> SandboxJSON:
    """One invoice of the key's CFA, by the OPCO's number (numeroInterneFacture) or by the CFA's (numero: the
    parameter we send, the real OPCOs' one for it being undocumented, docs/wire.md I6)."""
    if bool(numero_interne) == bool(numero):
        error = ApiError("PARAMETRE_MANQUANT", "Indiquez numeroInterneFacture ou numero (l'un des deux)", "numero")
        raise SandboxRefusal(400, [error], who.opco)
    if numero_interne:
        stored = sandbox.store.find_invoice(who.opco, who.key.siren, "numeroInterneFacture", numero_interne)
    else:
        stored = sandbox.store.find_invoice(who.opco, who.key.siren, "numero", numero or "")
    if stored is None:
        status = 400 if who.opco in NOT_FOUND_AS_400 else 404
        error = ApiError("FACTURE_INCONNUE", f"Aucune facture de numéro {numero_interne or numero}")
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
