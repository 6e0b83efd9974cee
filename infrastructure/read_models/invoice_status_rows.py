"""The invoices' read model's rows as stored and read back (invoice_status_view.py): amounts in cents, timestamps as
epoch seconds, dates as ISO text, booleans as 0/1."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from application.read_models.invoice_status import EcheanceRow, InvoiceRow
from application.read_models.invoice_status_projection import cents, from_cents
from infrastructure.read_models.temporal_versions import to_json
from infrastructure.store.sql_store import Row


def encode(row: InvoiceRow) -> tuple[Any, ...]:
    return (
        str(row.invoice_id),
        row.position,
        row.cfa_siret,
        row.opco,
        row.numero_interne_facture,
        row.invoice_date.isoformat(),
        row.state,
        cents(row.amount),
        cents(row.paid),
        row.numero_externe,
        row.opco_state,
        int(row.parked),
        row.sent_at.timestamp() if row.sent_at is not None else None,
        row.sent_on.isoformat() if row.sent_on is not None else None,
        row.line_count,
        to_json([str(ident) for ident in row.contract_ids]),
        row.created_at.timestamp(),
        row.updated_at.timestamp(),
    )


def decode(r: Row) -> InvoiceRow:
    return InvoiceRow(
        invoice_id=UUID(r[0]),
        position=int(r[1]),
        cfa_siret=r[2],
        opco=r[3],
        numero_interne_facture=r[4],
        invoice_date=date.fromisoformat(r[5]),
        state=r[6],
        amount=from_cents(r[7]),
        paid=from_cents(r[8]),
        numero_externe=r[9],
        opco_state=r[10],
        parked=bool(r[11]),
        sent_at=datetime.fromtimestamp(r[12], UTC) if r[12] is not None else None,
        sent_on=date.fromisoformat(r[13]) if r[13] else None,
        line_count=int(r[14]),
        contract_ids=tuple(UUID(ident) for ident in json.loads(r[15])),
        created_at=datetime.fromtimestamp(r[16], UTC),
        updated_at=datetime.fromtimestamp(r[17], UTC),
    )


def encode_echeance(row: EcheanceRow) -> tuple[Any, ...]:
    return (
        str(row.contract_id),
        row.numero,
        row.cfa_siret,
        row.opco,
        row.numero_interne,
        row.numero_externe,
        row.apprentice_name,
        row.employer_name,
        row.codification,
        cents(row.total),
        cents(row.settled_at_commitment),
        cents(row.invoiced),
        cents(row.paid),
        cents(row.remaining),
        row.opens_on.isoformat() if row.opens_on is not None else None,
        int(row.invoiceable),
        row.pending_invoice,
        row.updated_at.timestamp(),
        row.position,
    )


def decode_echeance(r: Row) -> EcheanceRow:
    return EcheanceRow(
        contract_id=UUID(r[0]),
        numero=int(r[1]),
        cfa_siret=r[2],
        opco=r[3],
        numero_interne=r[4],
        numero_externe=r[5],
        apprentice_name=r[6],
        employer_name=r[7],
        codification=r[8],
        total=from_cents(r[9]),
        settled_at_commitment=from_cents(r[10]),
        invoiced=from_cents(r[11]),
        paid=from_cents(r[12]),
        remaining=from_cents(r[13]),
        opens_on=date.fromisoformat(r[14]) if r[14] else None,
        invoiceable=bool(r[15]),
        pending_invoice=r[16],
        updated_at=datetime.fromtimestamp(r[17], UTC),
        position=int(r[18]),
    )
