"""The answers of the OPCO lookup by SIRET, kept in the store (operational data, not events): a restarted process
does not ask the directory again while an answer is younger than its lifetime (application.opco.opco_lookup)."""

from __future__ import annotations

from datetime import UTC, datetime

from application.opco.opco_lookup import OpcoAnswer
from domain.opco.opco_lookup import LookupOutcome
from domain.opco.opcos import Opco
from infrastructure.store.sql_store import SqlStore

DDL = (
    "CREATE TABLE IF NOT EXISTS opco_lookups ("
    " siret TEXT PRIMARY KEY, outcome TEXT NOT NULL, opco TEXT, idcc TEXT, opco_name TEXT,"
    " source TEXT NOT NULL, checked_at DOUBLE PRECISION NOT NULL)",
)


class SqlLookupCache:
    def __init__(self, store: SqlStore) -> None:
        self._store = store
        store.create(DDL)

    def get(self, siret: str) -> OpcoAnswer | None:
        with self._store.reading() as tx:
            rows = tx.query(
                "SELECT outcome, opco, idcc, opco_name, source, checked_at FROM opco_lookups WHERE siret = %s",
                (siret,),
            )
        if not rows:
            return None
        outcome, opco, idcc, opco_name, source, checked_at = rows[0]
        return OpcoAnswer(
            siret=siret,
            outcome=LookupOutcome(outcome),
            source=source,
            checked_at=datetime.fromtimestamp(checked_at, UTC),
            opco=Opco(opco) if opco else None,
            idcc=idcc,
            opco_name=opco_name,
        )

    def put(self, answer: OpcoAnswer) -> None:
        with self._store.transaction() as tx:
            tx.execute(
                "INSERT INTO opco_lookups (siret, outcome, opco, idcc, opco_name, source, checked_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (siret) DO UPDATE SET outcome = excluded.outcome,"
                " opco = excluded.opco, idcc = excluded.idcc, opco_name = excluded.opco_name,"
                " source = excluded.source, checked_at = excluded.checked_at",
                (
                    answer.siret,
                    answer.outcome.value,
                    answer.opco.value if answer.opco else None,
                    answer.idcc,
                    answer.opco_name,
                    answer.source,
                    answer.checked_at.timestamp(),
                ),
            )
