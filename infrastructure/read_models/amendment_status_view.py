"""The avenants read model on SQLite or PostgreSQL (see application.amendments.amendment_status)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from application.amendments.amendment_status import AmendmentRow
from infrastructure.read_models import tracking
from infrastructure.store.sql_store import SqlStore

NAME = "amendment_status"
_COLUMNS = (
    "amendment_id",
    "contract_id",
    "cfa_siret",
    "number",
    "type_code",
    "opco",
    "state",
    "effect_date",
    "waiting_for",
    "updated_at",
)


def table_ddl(table: str) -> tuple[str, ...]:
    return (
        *tracking.DDL,
        f"CREATE TABLE IF NOT EXISTS {table} ("
        " amendment_id TEXT PRIMARY KEY, contract_id TEXT NOT NULL, cfa_siret TEXT NOT NULL, number INTEGER NOT NULL,"
        " type_code INTEGER NOT NULL, opco TEXT NOT NULL, state TEXT NOT NULL, effect_date TEXT,"
        " waiting_for TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {table}_cfa ON {table} (cfa_siret, updated_at)",
        f"CREATE INDEX IF NOT EXISTS {table}_contract ON {table} (contract_id, state)",
    )


class SqlAmendmentStatusView:
    def __init__(self, store: SqlStore, table: str = NAME) -> None:
        self._store = store
        self._table = table
        store.create(table_ddl(table))

    def apply(self, rows: Sequence[AmendmentRow], position: Tracking, previous: int | None = None) -> None:
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
        statement = (
            f"INSERT INTO {self._table} ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
            f" ON CONFLICT (amendment_id) DO UPDATE SET {updates}"
        )
        with self._store.transaction(durable=False) as tx:
            tracking.advance(tx, self._table, position, previous)
            for row in rows:
                tx.execute(statement, _values(row))

    def position(self, application_name: str) -> int:
        return tracking.read_position(self._store, self._table, application_name)

    def rows(self, cfa_siret: str | None, contract_id: UUID | None = None) -> list[AmendmentRow]:
        where, params = [], []
        if cfa_siret is not None:
            where.append("cfa_siret = %s")
            params.append(cfa_siret)
        if contract_id is not None:
            where.append("contract_id = %s")
            params.append(str(contract_id))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._store.reading() as tx:
            found = tx.query(
                f"SELECT {', '.join(_COLUMNS)} FROM {self._table}{clause} ORDER BY updated_at DESC, amendment_id",
                params,
            )
        return [_row(r) for r in found]


def _values(row: AmendmentRow) -> tuple[Any, ...]:
    return (
        str(row.amendment_id),
        str(row.contract_id),
        row.cfa_siret,
        row.number,
        row.type_code,
        row.opco,
        row.state,
        row.effect_date.isoformat() if row.effect_date else None,
        json.dumps(list(row.waiting_for)),
        row.updated_at.timestamp(),
    )


def _row(r: Sequence[Any]) -> AmendmentRow:
    return AmendmentRow(
        amendment_id=UUID(r[0]),
        contract_id=UUID(r[1]),
        cfa_siret=r[2],
        number=int(r[3]),
        type_code=int(r[4]),
        opco=r[5],
        state=r[6],
        effect_date=date.fromisoformat(r[7]) if r[7] else None,
        waiting_for=tuple(json.loads(r[8])),
        updated_at=datetime.fromtimestamp(r[9], UTC),
    )
