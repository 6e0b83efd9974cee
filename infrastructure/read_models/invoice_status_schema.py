"""Tables and indexes of the invoices' read model (infrastructure/read_models/invoice_status_view.py), named after a
prefix so that a rebuild can fill `invoice_status_next_*` beside the live `invoice_status_*` tables and swap them in.

Portable types: amounts as integer cents (BIGINT: exact sums on both stores, never a float), timestamps as epoch
seconds (DOUBLE PRECISION), dates as ISO text (so that they compare as dates), booleans as integers 0/1, ids as text.
"""

from __future__ import annotations

from infrastructure.read_models.schema import Schema
from infrastructure.store.sql_store import Transaction

INVOICE_COLUMNS = (
    "invoice_id",
    "valid_from",  # the log position of the change that made this version: InvoiceRow.position
    "cfa_siret",
    "opco",
    "numero_interne_facture",
    "invoice_date",
    "state",
    "amount",
    "paid",
    "numero_externe",
    "opco_state",
    "parked",
    "sent_at",
    "sent_on",
    "line_count",
    "contract_ids",  # a JSON array, as shown; the `contracts` table is what the contractId filter reads
    "created_at",
    "updated_at",
)
VERSION_COLUMNS = (*INVOICE_COLUMNS, "valid_to")
ECHEANCE_COLUMNS = (
    "contract_id",
    "numero",
    "cfa_siret",
    "opco",
    "numero_interne",
    "numero_externe",
    "apprentice_name",
    "employer_name",
    "codification",
    "total",
    "settled",
    "invoiced",
    "paid",
    "remaining",
    "opens_on",
    "invoiceable",
    "pending_invoice",
    "updated_at",
    "position",
)
LINK_COLUMNS = ("contract_id", "invoice_id", "cfa_siret")
_NOT_TEXT = {
    "valid_from": "BIGINT",
    "valid_to": "BIGINT",
    "position": "BIGINT",
    "amount": "BIGINT",
    "paid": "BIGINT",
    "total": "BIGINT",
    "settled": "BIGINT",
    "invoiced": "BIGINT",
    "remaining": "BIGINT",
    "numero": "INTEGER",
    "parked": "INTEGER",
    "invoiceable": "INTEGER",
    "line_count": "INTEGER",
    "sent_at": "DOUBLE PRECISION",
    "created_at": "DOUBLE PRECISION",
    "updated_at": "DOUBLE PRECISION",
}


def column_type(column: str) -> str:
    return _NOT_TEXT.get(column, "TEXT")


def json_rows(dialect: str, columns: tuple[str, ...]) -> str:
    """Many rows of this view's columns in one statement (temporal_versions.json_rows)."""
    return SCHEMA.json_rows(dialect, columns)


def table_ddl(prefix: str) -> tuple[str, ...]:
    return SCHEMA.table_ddl(prefix)


_TABLES: dict[str, tuple[str, str]] = {
    "versions": (
        "invoice_id TEXT NOT NULL, valid_from BIGINT NOT NULL, valid_to BIGINT,"
        " cfa_siret TEXT NOT NULL, opco TEXT NOT NULL, numero_interne_facture TEXT NOT NULL,"
        " invoice_date TEXT NOT NULL, state TEXT NOT NULL, amount BIGINT NOT NULL, paid BIGINT NOT NULL,"
        " numero_externe TEXT, opco_state TEXT, parked INTEGER NOT NULL, sent_at DOUBLE PRECISION, sent_on TEXT,"
        " line_count INTEGER NOT NULL, contract_ids TEXT NOT NULL,"
        " created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL",
        "invoice_id, valid_from",
    ),
    # an invoice's contracts never change: one row per (contract, invoice), written with its first version
    "contracts": (
        "contract_id TEXT NOT NULL, invoice_id TEXT NOT NULL, cfa_siret TEXT NOT NULL",
        "contract_id, invoice_id",
    ),
    "echeances": (
        "contract_id TEXT NOT NULL, numero INTEGER NOT NULL, cfa_siret TEXT NOT NULL, opco TEXT,"
        " numero_interne TEXT NOT NULL, numero_externe TEXT, apprentice_name TEXT, employer_name TEXT,"
        " codification TEXT, total BIGINT NOT NULL, settled BIGINT NOT NULL, invoiced BIGINT NOT NULL,"
        " paid BIGINT NOT NULL, remaining BIGINT NOT NULL, opens_on TEXT, invoiceable INTEGER NOT NULL,"
        " pending_invoice TEXT, updated_at DOUBLE PRECISION NOT NULL, position BIGINT NOT NULL",
        "contract_id, numero",
    ),
    "memo": ("aggregate_id TEXT NOT NULL, memo TEXT NOT NULL", "aggregate_id"),
    "meta": ("name TEXT NOT NULL, value BIGINT NOT NULL", "name"),
    # invoices and contracts held at their last good state because projecting one of their events failed
    "held": (
        "aggregate_id TEXT NOT NULL, kind TEXT NOT NULL, cfa_siret TEXT, position BIGINT NOT NULL,"
        " event_type TEXT NOT NULL, error TEXT NOT NULL, held_at DOUBLE PRECISION NOT NULL",
        "aggregate_id",
    ),
}


# - a page is two keyset scans in (valid_from DESC, invoice_id DESC) order, merged: the current versions (`current`,
#   `current_all` for the operator) and the versions closed after the walk's position (`closed`, `closed_all`,
#   which is also what prune deletes by);
# - `states` serves the dashboard's sums per state and the attention's refused, parked and unpaid invoices;
# - `awaiting` holds exactly the échéances waiting for an invoice, by opening day (dashboard, attention).
_CURRENT = "WHERE valid_to IS NULL"
_ORDER = "valid_from DESC, invoice_id DESC"
AWAITING = "invoiceable = 1 AND invoiced = 0 AND pending_invoice IS NULL AND remaining > 0"
INDEXES: dict[str, tuple[str, str]] = {
    "current": ("versions", f"(cfa_siret, {_ORDER}) {_CURRENT}"),
    "current_all": ("versions", f"({_ORDER}) {_CURRENT}"),
    "states": ("versions", f"(cfa_siret, state, updated_at) {_CURRENT}"),
    "closed": ("versions", "(cfa_siret, valid_to) WHERE valid_to IS NOT NULL"),
    "closed_all": ("versions", "(valid_to) WHERE valid_to IS NOT NULL"),
    "invoice": ("contracts", "(invoice_id)"),
    "awaiting": ("echeances", f"(cfa_siret, opens_on) WHERE {AWAITING}"),
}
TABLES = tuple(_TABLES)
SCHEMA = Schema(tables=_TABLES, indexes=INDEXES, column_type=column_type)


def index_ddl(prefix: str) -> tuple[str, ...]:
    return SCHEMA.index_ddl(prefix)


def drop_tables(tx: Transaction, prefix: str) -> None:
    SCHEMA.drop_tables(tx, prefix)


def rename_tables(tx: Transaction, dialect: str, source: str, target: str) -> None:
    SCHEMA.rename_tables(tx, dialect, source, target)
