"""The event library's recorders, writing each event's digest (and the checkpoints due) in the transaction that
inserts the event. Named by the environment (APPLICATION_RECORDER_TOPIC, infrastructure/store/event_store.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed

from infrastructure.audit.chain_store import LogTables, chain_ddl, checkpoint_if_due, log_tables, write_digests

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


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        self.log_tables = LogTables("sqlite", events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *chain_ddl("sqlite")]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # the events first: their INSERT takes the write lock, so that what follows reads a log no one else extends
        ids = super()._insert_events(c, stored_events, **kwargs)
        tx = _SqliteCursorSql(c)
        write_digests(tx, self.log_tables, stored_events)
        checkpoint_if_due(tx, self.log_tables)
        return ids


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = datastore.schema
        self.log_tables = log_tables("postgresql", events_table_name.removesuffix("_events"), schema)
        self.sql_create_statements.extend(Composed([SQL(statement)]) for statement in chain_ddl("postgresql", schema))

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        # After the insert, in its transaction: a writer that lost a race on a version has failed on the events'
        # own unique key by now (the library's IntegrityError, which the commands retry), so the digests never race.
        # Their predecessors are committed: the events being written were made from them.
        tx = _PostgresCursorSql(curs)
        write_digests(tx, self.log_tables, stored_events)
        # Under the table's lock the insert took: the checkpoint due covers a log no one else extends. The library
        # keeps an error raised here until its transaction has ended (a failed one commits nothing): a checkpoint
        # that fails otherwise is logged, never reported as a failed write of committed events.
        try:
            checkpoint_if_due(tx, self.log_tables)
        except psycopg.Error:
            raise  # the transaction is failed: nothing of it commits
        except Exception:
            log.exception("no checkpoint taken")
        return ids
