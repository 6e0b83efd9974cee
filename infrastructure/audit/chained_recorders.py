"""The event library's recorders, writing each event's digest (and the checkpoints due) in the transaction that
inserts the event. Named by the environment (APPLICATION_RECORDER_TOPIC, infrastructure/store/event_store.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed

from infrastructure.audit import chain_store
from infrastructure.audit.chain_store import (
    LogTables,
    Sql,
    chain_ddl,
    chain_digests,
    checkpoint_if_due,
    insert_digests,
    log_tables,
    previous_digests,
    write_digests,
)

log = logging.getLogger("convergence.audit")


class _SqliteCursorSql:
    def __init__(self, cursor: SQLiteCursor) -> None:
        self._cursor = cursor

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(sql.replace("%s", "?"), tuple(params))
        return [tuple(row) for row in self._cursor.fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cursor.execute(sql.replace("%s", "?"), tuple(params))
        return 0


class _PostgresCursorSql:
    def __init__(self, cursor: Cursor[DictRow]) -> None:
        self._cursor = cursor

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(sql.encode(), tuple(params) or None)
        return [tuple(row.values()) for row in self._cursor.fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cursor.execute(sql.encode(), tuple(params) or None)
        return 0


class _Checkpoints:
    """When a writer looks for a due checkpoint: only once the log's head may be `every` positions past the last
    checkpoint this process has seen committed (others only move it forward), so most writes make no query."""

    def __init__(self, tables: LogTables) -> None:
        self._tables = tables
        self._seen = 0

    def after_insert(self, tx: Sql, ids: Sequence[int] | None) -> None:
        head = max(ids) if ids else None
        if head is not None and head - self._seen < chain_store.CHECKPOINT_EVERY:
            return
        seen = checkpoint_if_due(tx, self._tables, head=head)
        if seen is not None:
            self._seen = max(self._seen, seen)


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        self.log_tables = LogTables("sqlite", events_table_name)
        self._checkpoints = _Checkpoints(self.log_tables)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *chain_ddl("sqlite")]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # the events first: their INSERT takes the write lock, so that what follows reads a log no one else extends
        ids = super()._insert_events(c, stored_events, **kwargs)
        tx = _SqliteCursorSql(c)
        write_digests(tx, self.log_tables, stored_events)
        self._checkpoints.after_insert(tx, ids)
        return ids


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = datastore.schema
        self.log_tables = log_tables("postgresql", events_table_name.removesuffix("_events"), schema)
        self.sql_create_statements.extend(Composed([SQL(statement)]) for statement in chain_ddl("postgresql", schema))
        self._checkpoints = _Checkpoints(self.log_tables)
        self._digests = threading.local()

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        # Before the insert takes the table's lock: every round trip made under it holds off all the other writers
        # (and waits for this process's GIL). The predecessors' digests are committed: the events were made from them.
        super()._insert_events(curs, stored_events, **kwargs)
        previous = previous_digests(_PostgresCursorSql(curs), self.log_tables, stored_events)
        self._digests.rows = chain_digests(self.log_tables, stored_events, previous)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        # After the insert, in its transaction: a writer that lost a race on a version has failed on the events'
        # own unique key by now (the library's IntegrityError, which the commands retry), so the digests never race.
        tx = _PostgresCursorSql(curs)
        rows, self._digests.rows = self._digests.rows, None
        insert_digests(tx, self.log_tables, rows)
        # Under the table's lock the insert took: the checkpoint due covers a log no one else extends. The library
        # keeps an error raised here until its transaction has ended (a failed one commits nothing): a checkpoint
        # that fails otherwise is logged, never reported as a failed write of committed events.
        try:
            self._checkpoints.after_insert(tx, ids)
        except psycopg.Error:
            raise  # the transaction is failed: nothing of it commits
        except Exception:
            log.exception("no checkpoint taken")
        return ids
