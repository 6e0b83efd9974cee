"""An erased dossier's name leaves every stored version of the read models (application/privacy/erasure.py): the
current rows follow the `PersonalDataErased` event through the projections; the versions a walk may still read,
kept until they are pruned, are cleared here, and so is the memo (which the projection may not have reached yet).
Small and local on purpose: the read models' own modules are not touched."""

from __future__ import annotations

import json
from uuid import UUID

from domain.cerfa.personal import CERFA_PERSONAL_FIELDS, without_personal
from infrastructure.read_models import temporal_versions
from infrastructure.store.sql_store import SqlStore, Transaction


class ReadModelEraser:
    def __init__(self, store: SqlStore, status_prefixes: tuple[str, ...] = ("status", "status_next")) -> None:
        self._store = store
        self._status = status_prefixes

    def forget(self, contract_id: UUID) -> int:
        ident = str(contract_id)
        changed = 0
        with self._store.transaction() as tx:
            tables = _tables(tx, self._store.dialect)
            for prefix in self._status:
                if f"{prefix}_versions" in tables:
                    changed += self._versions(tx, prefix, ident)
                if f"{prefix}_memo" in tables:
                    changed += self._memo(tx, f"{prefix}_memo", "contract_id", ident)
            if "invoice_status_echeances" in tables:
                changed += tx.execute(
                    "UPDATE invoice_status_echeances SET apprentice_name = NULL"
                    " WHERE contract_id = %s AND apprentice_name IS NOT NULL",
                    (ident,),
                )
            if "invoice_status_memo" in tables:
                changed += self._memo(tx, "invoice_status_memo", "aggregate_id", ident)
        self._store.checkpoint()
        return changed

    @staticmethod
    def _versions(tx: Transaction, prefix: str, ident: str) -> int:
        rows = tx.query(
            f"SELECT valid_from, item FROM {prefix}_versions WHERE contract_id = %s AND apprentice_name IS NOT NULL",
            (ident,),
        )
        for valid_from, item in rows:
            listed = json.loads(item)
            listed["apprenticeName"] = None
            tx.execute(
                f"UPDATE {prefix}_versions SET apprentice_name = NULL, apprentice_search = ' ', item = %s"
                " WHERE contract_id = %s AND valid_from = %s",
                (temporal_versions.to_json(listed), ident, valid_from),
            )
        return len(rows)

    @staticmethod
    def _memo(tx: Transaction, table: str, key: str, ident: str) -> int:
        rows = tx.query(f"SELECT memo FROM {table} WHERE {key} = %s", (ident,))
        if not rows:
            return 0
        memo = temporal_versions.open_memo(rows[0][0])
        if "apprentice_name" in memo:
            memo["apprentice_name"] = None
        if isinstance(memo.get("cerfa"), dict):
            memo["cerfa"] = without_personal(memo["cerfa"], CERFA_PERSONAL_FIELDS)
        if isinstance(memo.get("names"), dict):
            memo["names"].pop("apprenti", None)
        tx.execute(f"UPDATE {table} SET memo = %s WHERE {key} = %s", (temporal_versions.seal_memo(memo), ident))
        return 1


def _tables(tx: Transaction, dialect: str) -> set[str]:
    if dialect == "postgresql":
        rows = tx.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    else:
        rows = tx.query("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(name) for (name,) in rows}
