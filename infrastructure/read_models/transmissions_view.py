"""The transmissions read model on SQLite or PostgreSQL (see application.opco.transmissions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from application.opco.transmissions import TOPICS, QueuedTransmission, QueueStatus, RowChange, row_changes
from application.read_models.projections import Batch
from infrastructure.read_models import tracking
from infrastructure.read_models.projection_runner import ProjectionRunner
from infrastructure.store.sql_store import SqlStore, Transaction

NAME = "transmissions"
RUPTURES = "rupture_transmissions"  # the ruptures' queue: contract_id holds the Termination's id
AMENDMENTS = "amendment_transmissions"  # the avenants' queue: contract_id holds the Amendment's id
INVOICES = "invoice_transmissions"  # the invoices' queue: same columns, contract_id holds the invoice's id


def table_ddl(table: str) -> tuple[str, ...]:
    return (
        *tracking.DDL,
        f"CREATE TABLE IF NOT EXISTS {table} ("
        " contract_id TEXT PRIMARY KEY, cfa_siret TEXT NOT NULL, opco TEXT NOT NULL, numero_interne TEXT NOT NULL,"
        " status TEXT NOT NULL, due_at DOUBLE PRECISION NOT NULL, opco_state TEXT)",
        *index_ddl(table),
    )


def index_ddl(table: str) -> tuple[str, ...]:
    return (
        f"CREATE INDEX IF NOT EXISTS {table}_due ON {table} (status, due_at)",
        f"CREATE INDEX IF NOT EXISTS {table}_account ON {table} (cfa_siret, opco)",
    )


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


class SqlTransmissionsView:
    """`table` names its table and its tracking (projection name)."""

    def __init__(self, store: SqlStore, table: str = NAME) -> None:
        self._store = store
        self._table = table
        store.create(table_ddl(table))

    def apply(self, changes: Sequence[RowChange], position: Tracking, previous: int | None = None) -> None:
        with self._store.transaction(durable=False) as tx:
            tracking.advance(tx, self._table, position, previous)
            for change in changes:
                _apply(tx, self._table, change)

    def position(self, application_name: str) -> int:
        return tracking.read_position(self._store, self._table, application_name)

    def due_accounts(self, now: datetime) -> list[tuple[str, str]]:
        """(cfa_siret, opco) pairs with dossiers due for sending."""
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT DISTINCT cfa_siret, opco FROM {self._table} WHERE status = %s AND due_at <= %s",
                (QueueStatus.PENDING.value, _epoch(now)),
            )
        return [(r[0], r[1]) for r in rows]

    def due(self, now: datetime, limit: int, cfa_siret: str, opco: str) -> list[QueuedTransmission]:
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT contract_id, cfa_siret, opco, numero_interne, due_at FROM {self._table}"
                " WHERE status = %s AND due_at <= %s AND cfa_siret = %s AND opco = %s ORDER BY due_at LIMIT %s",
                (QueueStatus.PENDING.value, _epoch(now), cfa_siret, opco, limit),
            )
        return [QueuedTransmission(UUID(r[0]), r[1], r[2], r[3], datetime.fromtimestamp(r[4], UTC)) for r in rows]

    def accounts_at_opcos(self) -> list[tuple[str, str]]:
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT DISTINCT cfa_siret, opco FROM {self._table} WHERE opco_state IS NOT NULL OR status = %s",
                (QueueStatus.PENDING.value,),
            )
        return [(r[0], r[1]) for r in rows]

    def opco_states(self, cfa_siret: str, opco: str) -> dict[str, str | None]:
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT numero_interne, opco_state FROM {self._table} WHERE cfa_siret = %s AND opco = %s",
                (cfa_siret, opco),
            )
        return {r[0]: r[1] for r in rows}

    def ids_at_opco(self, cfa_siret: str, opco: str) -> dict[str, UUID]:
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT numero_interne, contract_id FROM {self._table} WHERE cfa_siret = %s AND opco = %s",
                (cfa_siret, opco),
            )
        return {r[0]: UUID(r[1]) for r in rows}

    def counts(self) -> dict[str, int]:
        with self._store.reading() as tx:
            rows = tx.query(f"SELECT status, COUNT(*) FROM {self._table} GROUP BY status")
        return {r[0]: int(r[1]) for r in rows}

    def parked(self, cfa_siret: str | None) -> list[UUID]:
        """The ids parked in this queue, of one CFA (None: of every CFA), oldest first."""
        query, params = f"SELECT contract_id FROM {self._table} WHERE status = %s", [QueueStatus.PARKED.value]
        if cfa_siret is not None:
            query, params = f"{query} AND cfa_siret = %s", [*params, cfa_siret]
        with self._store.reading() as tx:
            rows = tx.query(f"{query} ORDER BY due_at", tuple(params))
        return [UUID(r[0]) for r in rows]

    def counts_by_opco(self) -> dict[tuple[str, str], int]:
        """(opco, status) → rows: each OPCO's queue depth (pending) and parked count."""
        with self._store.reading() as tx:
            rows = tx.query(f"SELECT opco, status, COUNT(*) FROM {self._table} GROUP BY opco, status")
        return {(r[0], r[1]): int(r[2]) for r in rows}


def _apply(tx: Transaction, table: str, change: RowChange) -> None:
    if change.new_row is not None:
        row = change.new_row
        tx.execute(
            f"INSERT INTO {table} (contract_id, cfa_siret, opco, numero_interne, status, due_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (contract_id) DO UPDATE"
            " SET status = excluded.status, due_at = excluded.due_at, opco = excluded.opco",
            (
                str(row.contract_id),
                row.cfa_siret,
                row.opco,
                row.numero_interne,
                QueueStatus.PENDING.value,
                _epoch(row.due_at),
            ),
        )
        return
    assignments, params = [], []
    columns = (
        ("status", change.status),
        ("due_at", change.due_at),
        ("opco_state", change.opco_state),
        ("numero_interne", change.numero_interne),
    )
    for column, value in columns:
        if value is not None:
            assignments.append(f"{column} = %s")
            params.append(_epoch(value) if isinstance(value, datetime) else str(value))
    if assignments:
        tx.execute(
            f"UPDATE {table} SET {', '.join(assignments)} WHERE contract_id = %s",
            (*params, str(change.contract_id)),
        )


def rebuild_transmissions_view(
    store: SqlStore,
    app: Application[UUID],
    batch_size: int = 1000,
    table: str = NAME,
    topics: tuple[str, ...] = TOPICS,
) -> SqlTransmissionsView:
    """Project the whole log into a fresh table, then swap it in (one transaction); the live one answers meanwhile.
    A live batch in flight during the swap finds the position moved and is read again from the rebuilt one.
    `table` and `topics`: the contracts' queue by default, or the invoices' (INVOICES, INVOICE_TOPICS)."""
    fresh_name = f"{table}_next"
    with store.transaction() as tx:
        tx.execute(f"DROP TABLE IF EXISTS {fresh_name}")
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (fresh_name,))
    fresh = SqlTransmissionsView(store, fresh_name)

    def project(batch: Batch) -> None:
        fresh.apply([c for _, event in batch.events for c in row_changes(event)], batch.tracking, batch.previous)

    ProjectionRunner(app, fresh_name, topics, project, lambda: fresh.position(app.name), batch_size).catch_up()
    with store.transaction() as tx:
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (table,))
        tx.execute("UPDATE projection_tracking SET projection = %s WHERE projection = %s", (table, fresh_name))
        tx.execute(f"DROP TABLE IF EXISTS {table}")
        tx.execute(f"ALTER TABLE {fresh_name} RENAME TO {table}")
        for suffix in ("due", "account"):  # indexes keep their names when their table is renamed
            tx.execute(f"DROP INDEX IF EXISTS {fresh_name}_{suffix}")
        for statement in index_ddl(table):
            tx.execute(statement)
    return SqlTransmissionsView(store, table)


DOCUMENTS = "document_transmissions"  # the documents' queue: same columns, contract_id holds the document's id
