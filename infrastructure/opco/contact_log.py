"""The last exchange with each OPCO for each CFA: when, and the last error (operational data, not events)."""

from __future__ import annotations

from datetime import UTC, datetime

from application.ports import Contact
from infrastructure.store.sql_store import SqlStore

DDL = (
    "CREATE TABLE IF NOT EXISTS opco_contacts ("
    " cfa_siret TEXT NOT NULL, opco TEXT NOT NULL, last_contact_at DOUBLE PRECISION,"
    " last_error TEXT, last_error_at DOUBLE PRECISION, PRIMARY KEY (cfa_siret, opco))",
)


class SqlContactLog:
    def __init__(self, store: SqlStore) -> None:
        self._store = store
        store.create(DDL)

    def record(self, cfa_siret: str, opco: str, at: datetime, error: str | None) -> None:
        with self._store.transaction(durable=False) as tx:
            if error is None:
                tx.execute(
                    "INSERT INTO opco_contacts (cfa_siret, opco, last_contact_at) VALUES (%s, %s, %s)"
                    " ON CONFLICT (cfa_siret, opco) DO UPDATE SET last_contact_at = excluded.last_contact_at",
                    (cfa_siret, opco, at.timestamp()),
                )
            else:
                tx.execute(
                    "INSERT INTO opco_contacts (cfa_siret, opco, last_contact_at, last_error, last_error_at)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (cfa_siret, opco) DO UPDATE SET"
                    " last_contact_at = excluded.last_contact_at, last_error = excluded.last_error,"
                    " last_error_at = excluded.last_error_at",
                    (cfa_siret, opco, at.timestamp(), error[:1000], at.timestamp()),
                )

    def get(self, cfa_siret: str, opco: str) -> Contact | None:
        with self._store.reading() as tx:
            rows = tx.query(
                "SELECT last_contact_at, last_error, last_error_at FROM opco_contacts"
                " WHERE cfa_siret = %s AND opco = %s",
                (cfa_siret, opco),
            )
        if not rows:
            return None
        contact_at, error, error_at = rows[0]
        return Contact(_moment(contact_at), error, _moment(error_at))


def _moment(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)
