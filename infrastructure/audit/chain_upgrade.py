"""The layout step that brings a store written before the integrity chain under it: every event without a digest
gets one, computed from the rows as they are at the upgrade, and checkpoints are taken up to the head. History
before the upgrade is therefore only as trustworthy as the store was at that moment (docs/audit.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from application.audit.chain import GENESIS, event_digest
from infrastructure.audit.chain_store import (
    ChainBroken,
    LogTables,
    chain_ddl,
    log_tables,
    stored_pages,
    take_checkpoints,
)
from infrastructure.store.sql_store import Transaction


def chain_existing(tx: Transaction, dialect: str) -> None:
    for statement in chain_ddl(dialect):
        tx.execute(statement)
    tables = log_tables(dialect)
    if not _exists(tx, tables):
        return  # a new store: its recorder chains every event from the first
    chain_unchained(tx, tables)
    take_checkpoints(tx, tables)


def chain_unchained(tx: Transaction, tables: LogTables) -> int:
    """Digests for the events that have none, each aggregate's chain computed in version order; their number."""

    @contextmanager
    def same() -> Iterator[Transaction]:
        yield tx

    head = int(tx.query(f"SELECT MAX({tables.position}) FROM {tables.events}")[0][0] or 0)
    current: UUID | None = None
    previous, added = GENESIS, 0
    for page in stored_pages(same, tables, head):
        rows = []
        for originator, version, topic, state, _, digest in page:
            if originator != current:
                current, previous = originator, GENESIS
            if version > 1 and previous == GENESIS and digest is None:
                found = tx.query(
                    f"SELECT digest FROM {tables.chain} WHERE originator_id = %s AND originator_version = %s",
                    (tables.db_id(originator), version - 1),
                )
                if not found:
                    raise ChainBroken(f"{originator}: its events do not start at version 1")
                previous = bytes(found[0][0])
            if digest is None:
                digest = event_digest(previous, originator, version, topic, state)
                rows.append((tables.db_id(originator), version, digest))
            previous = digest
        for row in rows:
            tx.execute(
                f"INSERT INTO {tables.chain} (originator_id, originator_version, digest) VALUES (%s, %s, %s)", row
            )
        added += len(rows)
    return added


def _exists(tx: Transaction, tables: LogTables) -> bool:
    if tables.dialect == "postgresql":
        return bool(tx.query("SELECT to_regclass(%s) IS NOT NULL", (tables.events,))[0][0])
    return bool(tx.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", (tables.events,)))
