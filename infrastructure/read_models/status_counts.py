"""The dashboard's counts of the status read model (`<prefix>_counts`): its current versions counted per (CFA,
state, OPCO), with the sum of their commitments, kept by every batch that changes them, or counted at once for
tables filled in bulk (a rebuild, which leaves them to its swap)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from application.read_models.status_projection import Memo, tally
from infrastructure.read_models.status_schema import json_rows
from infrastructure.read_models.temporal_versions import to_json
from infrastructure.store.sql_store import Transaction


def count_changes(tx: Transaction, prefix: str, dialect: str, changes: list[tuple[Memo | None, Memo]]) -> None:
    """Move each changed dossier from its old group to its new one. The counts are read and written back in
    this transaction, after tracking.advance locked the view's position: batches write them one at a time."""
    deltas: dict[tuple[str, str, str], list[Any]] = {}
    for old, new in changes:
        for memo, sign in ((old, -1), (new, 1)):
            if memo is None:
                continue
            cfa, state, opco, parked, commitment = tally(memo)
            delta = deltas.setdefault((cfa, state, opco), [0, 0, Decimal(0)])
            delta[0] += sign
            delta[1] += sign * int(parked)
            if commitment is not None:
                delta[2] += sign * Decimal(commitment)
    moved = {key: delta for key, delta in deltas.items() if delta != [0, 0, 0]}
    if not moved:
        return
    keys = json_rows(dialect, ("cfa_siret", "state", "opco"))
    wanted = [dict(zip(("cfa_siret", "state", "opco"), key, strict=True)) for key in moved]
    rows = tx.query(
        f"SELECT c.cfa_siret, c.state, c.opco, c.dossiers, c.parked, c.committed FROM {prefix}_counts AS c"
        f" JOIN ({keys}) AS k ON c.cfa_siret = k.cfa_siret AND c.state = k.state AND c.opco = k.opco",
        (to_json(wanted),),
    )
    current = {(r[0], r[1], r[2]): (int(r[3]), int(r[4]), Decimal(r[5])) for r in rows}
    records = []
    for (cfa, state, opco), (dossiers, parked, committed) in moved.items():
        was = current.get((cfa, state, opco), (0, 0, Decimal(0)))
        records.append(
            {
                "cfa_siret": cfa,
                "state": state,
                "opco": opco,
                "dossiers": was[0] + dossiers,
                "parked": was[1] + parked,
                "committed": str(was[2] + committed),
            }
        )
    columns = ("cfa_siret", "state", "opco", "dossiers", "parked", "committed")
    tx.execute(
        f"INSERT INTO {prefix}_counts ({', '.join(columns)}) {json_rows(dialect, columns)}"
        " ON CONFLICT (cfa_siret, state, opco) DO UPDATE SET dossiers = excluded.dossiers,"
        " parked = excluded.parked, committed = excluded.committed",
        (to_json(records),),
    )


def count_versions(tx: Transaction, prefix: str, dialect: str) -> None:
    """Count the current versions into `{prefix}_counts` unless they are already counted (flag in the meta): for
    tables filled in bulk (a rebuild's first pass, a benchmark's COPY) or made before the counts existed."""
    flag = f"SELECT value FROM {prefix}_meta WHERE name = 'counted'"
    if tx.query(flag):
        return
    if dialect == "postgresql":  # a batch waits (its counts come after this count) or is counted here
        tx.execute(f"LOCK TABLE {prefix}_counts IN EXCLUSIVE MODE")
        if tx.query(flag):
            return
    summed = "CAST(SUM(CAST(commitment AS NUMERIC)) AS TEXT)" if dialect == "postgresql" else "group_concat(commitment)"
    groups = tx.query(
        f"SELECT cfa_siret, state, COALESCE(opco, ''), COUNT(*), SUM(parked), {summed} FROM {prefix}_versions"
        " WHERE valid_to IS NULL GROUP BY cfa_siret, state, COALESCE(opco, '')"
    )
    columns = ("cfa_siret", "state", "opco", "dossiers", "parked", "committed")
    records = [
        dict(zip(columns, (cfa, state, opco, int(n), int(p or 0), str(_decimal_sum(dialect, total))), strict=True))
        for cfa, state, opco, n, p, total in groups
    ]
    tx.execute(f"DELETE FROM {prefix}_counts")
    if records:
        tx.execute(
            f"INSERT INTO {prefix}_counts ({', '.join(columns)}) {json_rows(dialect, columns)}", (to_json(records),)
        )
    tx.execute(f"INSERT INTO {prefix}_meta (name, value) VALUES ('counted', 1)")


def _decimal_sum(dialect: str, total: str | None) -> Decimal:
    """PostgreSQL sums as NUMERIC (exact); SQLite has no exact decimal type: its commitments are summed here."""
    if total is None:
        return Decimal(0)
    if dialect == "postgresql":
        return Decimal(total)
    return sum((Decimal(part) for part in total.split(",")), Decimal(0))
