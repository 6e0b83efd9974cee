"""The ruptures read model on SQLite or PostgreSQL (see application.read_models.rupture_status)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from application.read_models.rupture_status import RuptureChange, RuptureRow
from infrastructure.read_models import tracking
from infrastructure.store.sql_store import SqlStore, Transaction

NAME = "rupture_status"
_COLUMNS = (
    "contract_id",
    "termination_id",
    "cfa_siret",
    "numero_interne",
    "opco",
    "route",
    "state",
    "parked",
    "date_effet",
    "motif",
    "inside_probation",
    "last_invoice_by",
    "traineeship_until",
    "updated_at",
)


def table_ddl(table: str) -> tuple[str, ...]:
    return (
        *tracking.DDL,
        f"CREATE TABLE IF NOT EXISTS {table} ("
        " contract_id TEXT PRIMARY KEY, termination_id TEXT NOT NULL, cfa_siret TEXT NOT NULL,"
        " numero_interne TEXT NOT NULL, opco TEXT NOT NULL, route TEXT NOT NULL, state TEXT NOT NULL,"
        " parked INTEGER NOT NULL, date_effet TEXT NOT NULL, motif TEXT NOT NULL, inside_probation INTEGER NOT NULL,"
        " last_invoice_by TEXT NOT NULL, traineeship_until TEXT, updated_at DOUBLE PRECISION NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {table}_cfa ON {table} (cfa_siret, date_effet)",
        f"CREATE INDEX IF NOT EXISTS {table}_termination ON {table} (termination_id)",
    )


class SqlRuptureStatusView:
    def __init__(self, store: SqlStore, table: str = NAME) -> None:
        self._store = store
        self._table = table
        store.create(table_ddl(table))

    def apply(self, changes: Sequence[RuptureChange], position: Tracking, previous: int | None = None) -> None:
        with self._store.transaction(durable=False) as tx:
            tracking.advance(tx, self._table, position, previous)
            for change in changes:
                self._apply(tx, change)

    def position(self, application_name: str) -> int:
        return tracking.read_position(self._store, self._table, application_name)

    def rows(self, cfa_siret: str | None, state: str | None = None, waiting: bool | None = None) -> list[RuptureRow]:
        where, params = [], []
        if cfa_siret is not None:
            where.append("cfa_siret = %s")
            params.append(cfa_siret)
        if state is not None:
            where.append("state = %s")
            params.append(state)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT {', '.join(_COLUMNS)} FROM {self._table}{clause} ORDER BY date_effet DESC, contract_id",
                params,
            )
        found = [_row(r) for r in rows]
        return found if waiting is None else [r for r in found if bool(r.waiting_for) is waiting]

    def _apply(self, tx: Transaction, change: RuptureChange) -> None:
        if change.row is not None:
            values = _values(change.row)
            updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
            tx.execute(
                f"INSERT INTO {self._table} ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
                f" ON CONFLICT (contract_id) DO UPDATE SET {updates}",
                values,
            )
            return
        at = change.at.timestamp() if change.at else None
        if change.contract_id is not None:
            until = change.traineeship_until.isoformat() if change.traineeship_until else None
            tx.execute(
                f"UPDATE {self._table} SET traineeship_until = %s, updated_at = %s WHERE contract_id = %s",
                (until, at, str(change.contract_id)),
            )
            return
        ident = str(change.termination_id)
        if change.removed:
            tx.execute(f"DELETE FROM {self._table} WHERE termination_id = %s", (ident,))
            return
        assignments: list[str] = ["updated_at = %s"]
        params: list[Any] = [at]
        if change.state is not None:
            assignments.append("state = %s")
            params.append(change.state)
        if change.parked is not None:
            assignments.append("parked = %s")
            params.append(int(change.parked))
        tx.execute(f"UPDATE {self._table} SET {', '.join(assignments)} WHERE termination_id = %s", (*params, ident))


def _values(row: RuptureRow) -> tuple[Any, ...]:
    return (
        str(row.contract_id),
        str(row.termination_id),
        row.cfa_siret,
        row.numero_interne,
        row.opco,
        row.route,
        row.state,
        int(row.parked),
        row.date_effet.isoformat(),
        row.motif,
        int(row.inside_probation),
        row.last_invoice_by.isoformat(),
        row.traineeship_until.isoformat() if row.traineeship_until else None,
        row.updated_at.timestamp(),
    )


def _row(r: Sequence[Any]) -> RuptureRow:
    return RuptureRow(
        contract_id=UUID(r[0]),
        termination_id=UUID(r[1]),
        cfa_siret=r[2],
        numero_interne=r[3],
        opco=r[4],
        route=r[5],
        state=r[6],
        parked=bool(r[7]),
        date_effet=date.fromisoformat(r[8]),
        motif=r[9],
        inside_probation=bool(r[10]),
        last_invoice_by=date.fromisoformat(r[11]),
        traineeship_until=date.fromisoformat(r[12]) if r[12] else None,
        updated_at=datetime.fromtimestamp(r[13], UTC),
    )
