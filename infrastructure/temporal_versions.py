"""What the two temporal read models (the contracts' status, the invoices') share: their position, the pruned
horizon kept in their `<prefix>_meta` table, pruning the versions a walk can no longer need, and writing many rows
in one statement."""

from __future__ import annotations

from collections.abc import Callable

from infrastructure.sql_store import SqlStore, Transaction


def head(tx: Transaction, prefix: str) -> int:
    """The read model's position, as its tracking records it."""
    rows = tx.query("SELECT COALESCE(MAX(position), 0) FROM projection_tracking WHERE projection = %s", (prefix,))
    return int(rows[0][0])


def horizon(tx: Transaction, prefix: str) -> int:
    """The position at or before which closed versions are gone: walks pinned before it are refused."""
    rows = tx.query(f"SELECT value FROM {prefix}_meta WHERE name = 'horizon'")
    return int(rows[0][0]) if rows else 0


def prune(store: SqlStore, prefix: str, versions: str, keep_after_position: int) -> int:
    """Delete the versions closed at or before this position (never past the view's own position); walks pinned
    before it are refused from then on. The number of versions deleted."""
    with store.transaction() as tx:
        new_horizon = min(keep_after_position, head(tx, prefix))
        if new_horizon <= horizon(tx, prefix):
            return 0
        deleted = tx.execute(f"DELETE FROM {versions} WHERE valid_to IS NOT NULL AND valid_to <= %s", (new_horizon,))
        tx.execute(
            f"INSERT INTO {prefix}_meta (name, value) VALUES ('horizon', %s)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (new_horizon,),
        )
        return deleted


def json_rows(dialect: str, columns: tuple[str, ...], column_type: Callable[[str], str]) -> str:
    """A SELECT of these columns from one parameter, a JSON array of objects: many rows in one statement whose
    text never changes (so the driver's parse is cached) and with one placeholder."""
    if dialect == "postgresql":
        definitions = ", ".join(f"{column} {column_type(column)}" for column in columns)
        return f"SELECT {', '.join(columns)} FROM json_to_recordset(%s::json) AS x({definitions})"
    extracted = ", ".join(f"json_extract(value, '$.{column}') AS {column}" for column in columns)
    return f"SELECT {extracted} FROM json_each(%s) WHERE 1 = 1"  # the WHERE lets an ON CONFLICT clause follow
