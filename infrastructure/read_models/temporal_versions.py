"""What the two temporal read models (the contracts' status, the invoices') share: their position, the pruned
horizon kept in their `<prefix>_meta` table, pruning the versions a walk can no longer need, writing many rows
in one statement, and the per-aggregate memos, holds and version closing, each table keyed by one id column."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson

from infrastructure.privacy.keyring import Keyring
from infrastructure.store.sql_store import SqlStore, Transaction


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


def to_json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # what orjson does not write (an integer over 64 bits): the standard library does
        return json.dumps(value, separators=(",", ":"))


def from_json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what orjson does not read (an integer over 64 bits): the standard library does
        return json.loads(text)


def insert(
    tx: Transaction, rows: str, table: str, columns: tuple[str, ...], records: list[Any], suffix: str = ""
) -> None:
    """These records (dicts of `columns`) in one statement; `rows`: json_rows of the columns, typed as the table
    has them; `suffix`: an ON CONFLICT clause, say."""
    if records:
        tx.execute(f"INSERT INTO {table} ({', '.join(columns)}) {rows}{suffix}", (to_json(records),))


def select_in(tx: Transaction, dialect: str, table: str, key: str, columns: str, keys: Iterable[str]) -> list[Any]:
    """`columns` of the rows of `table` whose `key` column is one of `keys` (text ids)."""
    wanted = json_rows(dialect, (key,), _text)
    return tx.query(
        f"SELECT {columns} FROM {table} WHERE {key} IN (SELECT {key} FROM ({wanted}) AS k)",
        (to_json([{key: value} for value in keys]),),
    )


class _MemoSeal:
    """The memos hold the names a list needs and more: they are stored encrypted under the master keyring
    (docs/privacy.md), as base64 text; a memo written before (JSON, starting with `{`) is read as it is."""

    keyring: Keyring | None = None


def seal_memos_with(keyring: Keyring | None) -> None:
    _MemoSeal.keyring = keyring


def seal_memo(memo: Any) -> str:
    text = to_json(memo)
    if _MemoSeal.keyring is None:
        return text
    return base64.b64encode(_MemoSeal.keyring.encrypt(text.encode())).decode()


def open_memo(stored: str) -> Any:
    if stored.startswith("{") or _MemoSeal.keyring is None:
        return from_json(stored)
    return from_json(_MemoSeal.keyring.decrypt(base64.b64decode(stored)).decode())


def load_memos(tx: Transaction, dialect: str, prefix: str, key: str, keys: Iterable[str]) -> dict[str, Any]:
    """The memos (`<prefix>_memo`: key, memo) of these aggregates, those that have one."""
    rows = select_in(tx, dialect, f"{prefix}_memo", key, f"{key}, memo", keys)
    return {str(ident): open_memo(text) for ident, text in rows}


def save_memos(tx: Transaction, dialect: str, prefix: str, key: str, memos: dict[str, Any]) -> None:
    insert(
        tx,
        json_rows(dialect, (key, "memo"), _text),
        f"{prefix}_memo",
        (key, "memo"),
        [{key: ident, "memo": seal_memo(memo)} for ident, memo in memos.items()],
        f" ON CONFLICT ({key}) DO UPDATE SET memo = excluded.memo",
    )


def copy_memos(tx: Transaction, dialect: str, prefix: str, key: str, memos: dict[str, Any]) -> None:
    """New memos (the table holds none of their keys: a rebuild's) by the store's bulk path, COPY on PostgreSQL;
    where there is none, as save_memos writes them. Encoded as save_memos encodes them."""
    rows = ([ident, seal_memo(memo)] for ident, memo in memos.items())
    if memos and not tx.copy_rows(f"{prefix}_memo", (key, "memo"), rows):
        save_memos(tx, dialect, prefix, key, memos)


def held_keys(tx: Transaction, dialect: str, prefix: str, key: str, keys: Iterable[str]) -> set[str]:
    """Which of these aggregates `<prefix>_held` holds."""
    return {str(ident) for (ident,) in select_in(tx, dialect, f"{prefix}_held", key, key, keys)}


def close(tx: Transaction, dialect: str, versions: str, key: str, closing: dict[str, int]) -> None:
    """Close the current versions of these aggregates at the position given for each."""
    if closing:
        ends = json_rows(dialect, (key, "valid_to"), lambda column: "BIGINT" if column == "valid_to" else "TEXT")
        tx.execute(
            f"UPDATE {versions} SET valid_to = x.valid_to FROM ({ends}) AS x"
            f" WHERE {versions}.{key} = x.{key} AND {versions}.valid_to IS NULL",
            (to_json([{key: ident, "valid_to": end} for ident, end in closing.items()]),),
        )


def _text(column: str) -> str:
    return "TEXT"


def filters(
    cfa_siret: str | None,
    states: Sequence[str],
    opco: str | None,
    parked: bool | None,
    updated_since: datetime | None,
    **equal: str | None,
) -> tuple[list[str], list[Any]]:
    """The WHERE clauses (ANDed, never empty) and their parameters of the filters both read models' lists take:
    the tenant, states, OPCO, parked, changed since, and `equal`: more columns equal to a value where one is given;
    each view adds its own after them."""
    clauses: list[str] = ["1 = 1"]
    params: list[Any] = []
    wanted = {"cfa_siret": cfa_siret, "opco": opco, "parked": None if parked is None else int(parked), **equal}
    for column, value in wanted.items():
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if states:
        clauses.append(f"state IN ({', '.join(['%s'] * len(states))})")
        params.extend(states)
    if updated_since is not None:
        clauses.append("updated_at >= %s")
        params.append(updated_since.timestamp())
    return clauses, params
