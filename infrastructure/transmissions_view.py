"""The transmissions read model on SQLite or PostgreSQL (see application.transmissions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import Tracking

from application.transmissions import QueuedTransmission, QueueStatus, RowChange
from infrastructure import tracking
from infrastructure.sql_store import SqlStore, Transaction

NAME = "transmissions"
DDL = (
    *tracking.DDL,
    "CREATE TABLE IF NOT EXISTS transmissions ("
    " contract_id TEXT PRIMARY KEY, cfa_siret TEXT NOT NULL, opco TEXT NOT NULL, numero_interne TEXT NOT NULL,"
    " status TEXT NOT NULL, due_at DOUBLE PRECISION NOT NULL, opco_state TEXT)",
    "CREATE INDEX IF NOT EXISTS transmissions_due ON transmissions (status, due_at)",
    "CREATE INDEX IF NOT EXISTS transmissions_account ON transmissions (cfa_siret, opco)",
)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


class SqlTransmissionsView:
    def __init__(self, store: SqlStore) -> None:
        self._store = store
        store.create(DDL)

    def apply(self, changes: Sequence[RowChange], position: Tracking, previous: int | None = None) -> None:
        with self._store.transaction() as tx:
            tracking.advance(tx, NAME, position, previous)
            for change in changes:
                _apply(tx, change)

    def position(self, application_name: str) -> int:
        return tracking.read_position(self._store, NAME, application_name)

    def due_accounts(self, now: datetime) -> list[tuple[str, str]]:
        """(cfa_siret, opco) pairs with dossiers due for sending."""
        with self._store.transaction() as tx:
            rows = tx.query(
                "SELECT DISTINCT cfa_siret, opco FROM transmissions WHERE status = %s AND due_at <= %s",
                (QueueStatus.PENDING.value, _epoch(now)),
            )
        return [(r[0], r[1]) for r in rows]

    def due(self, now: datetime, limit: int, cfa_siret: str, opco: str) -> list[QueuedTransmission]:
        with self._store.transaction() as tx:
            rows = tx.query(
                "SELECT contract_id, cfa_siret, opco, numero_interne, due_at FROM transmissions"
                " WHERE status = %s AND due_at <= %s AND cfa_siret = %s AND opco = %s ORDER BY due_at LIMIT %s",
                (QueueStatus.PENDING.value, _epoch(now), cfa_siret, opco, limit),
            )
        return [QueuedTransmission(UUID(r[0]), r[1], r[2], r[3], datetime.fromtimestamp(r[4], UTC)) for r in rows]

    def accounts_at_opcos(self) -> list[tuple[str, str]]:
        with self._store.transaction() as tx:
            rows = tx.query(
                "SELECT DISTINCT cfa_siret, opco FROM transmissions WHERE opco_state IS NOT NULL OR status = %s",
                (QueueStatus.PENDING.value,),
            )
        return [(r[0], r[1]) for r in rows]

    def opco_states(self, cfa_siret: str, opco: str) -> dict[str, str | None]:
        with self._store.transaction() as tx:
            rows = tx.query(
                "SELECT numero_interne, opco_state FROM transmissions WHERE cfa_siret = %s AND opco = %s",
                (cfa_siret, opco),
            )
        return {r[0]: r[1] for r in rows}

    def counts(self) -> dict[str, int]:
        with self._store.transaction() as tx:
            rows = tx.query("SELECT status, COUNT(*) FROM transmissions GROUP BY status")
        return {r[0]: int(r[1]) for r in rows}


def _apply(tx: Transaction, change: RowChange) -> None:
    if change.new_row is not None:
        row = change.new_row
        tx.execute(
            "INSERT INTO transmissions (contract_id, cfa_siret, opco, numero_interne, status, due_at)"
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
    for column, value in (("status", change.status), ("due_at", change.due_at), ("opco_state", change.opco_state)):
        if value is not None:
            assignments.append(f"{column} = %s")
            params.append(_epoch(value) if isinstance(value, datetime) else str(value))
    if assignments:
        tx.execute(
            f"UPDATE transmissions SET {', '.join(assignments)} WHERE contract_id = %s",
            (*params, str(change.contract_id)),
        )
