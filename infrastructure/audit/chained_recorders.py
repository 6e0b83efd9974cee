"""The event library's recorders, writing each event's digest (and the checkpoints due) in the transaction that
inserts the event. Named by the environment (APPLICATION_RECORDER_TOPIC, infrastructure/store/event_store.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from infrastructure.audit import chain_store
from infrastructure.audit.chain_store import (
    CHAIN,
    LogTables,
    Sql,
    chain_ddl,
    chain_digests,
    checkpoint_if_due,
    lock_log,
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

    def may_be_due(self, ids: Sequence[int] | None) -> bool:
        """`ids`: the positions just written (None or empty: unknown)."""
        return not ids or max(ids) - self._seen >= chain_store.CHECKPOINT_EVERY

    def take_due(self, tx: Sql, head: int | None = None) -> None:
        """Under the log's lock: the checkpoints due up to `head` (read if not given)."""
        self._seen = max(self._seen, checkpoint_if_due(tx, self._tables, head=head))


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
        if self._checkpoints.may_be_due(ids):
            self._checkpoints.take_due(tx, max(ids) if ids else None)
        return ids


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """Inserts a save's events and their digests with one call of a database function, in a transaction of its
    own that commits on the server: the table's lock (which orders the log, see the library's `_lock_table`) is
    held for the insert and the commit only, never across a round trip to this process, whose threads may wait
    for the interpreter's lock meanwhile (the convoy that bounded the worker's saves). The predecessors' digests
    are read before, outside the lock: they are committed, the events were made from them."""

    FUNCTION = "convergence_insert_chained_events"

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = datastore.schema
        self.log_tables = log_tables("postgresql", events_table_name.removesuffix("_events"), schema)
        self.sql_create_statements.extend(Composed([SQL(statement)]) for statement in chain_ddl("postgresql", schema))
        self.sql_create_statements.append(self._function_ddl())
        self._checkpoints = _Checkpoints(self.log_tables)
        self._invoke = SQL("SELECT * FROM {schema}.{function}(%s, %s)").format(
            schema=Identifier(schema), function=Identifier(self.FUNCTION)
        )

    def _function_ddl(self) -> Composed:
        schema, table = Identifier(self.datastore.schema), Identifier(self.events_table_name)
        return SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[], digests bytea[])"
            " RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$"
            " BEGIN"
            "  SET LOCAL lock_timeout = '{lock_timeout}s';"
            "  LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
            "  NOTIFY {channel};"
            "  RETURN QUERY INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
            "   SELECT e.originator_id, e.originator_version, e.topic, e.state FROM unnest(events) AS e"
            "   RETURNING notification_id;"
            "  INSERT INTO {schema}.{chain} (originator_id, originator_version, digest)"
            "   SELECT e.originator_id, e.originator_version, digests[e.n]"
            "   FROM unnest(events) WITH ORDINALITY AS e(originator_id, originator_version, topic, state, n);"
            " END; $BODY$"
        ).format(
            schema=schema,
            function=Identifier(self.FUNCTION),
            event=Identifier(self.stored_event_type_name),
            lock_timeout=SQL(str(int(self.datastore.lock_timeout))),
            table=table,
            channel=Identifier(self.channel_name),
            chain=Identifier(CHAIN),
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return []
        events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        with self.datastore.get_connection() as conn:
            with conn.cursor() as curs:
                previous = previous_digests(_PostgresCursorSql(curs), self.log_tables, stored_events)
                digests = [digest for *_, digest in chain_digests(self.log_tables, stored_events, previous)]
                curs.execute(self._invoke, (events, digests), prepare=True)
                ids = [row[self.FUNCTION] for row in curs.fetchall()]
            self._checkpoint(conn, ids)
        return ids

    def _checkpoint(self, conn: psycopg.Connection[DictRow], ids: Sequence[int]) -> None:
        """The checkpoints due once these events are in, in a transaction of their own under the log's lock (the
        log extends meanwhile otherwise); a failure is logged, never reported as a failed write of committed
        events (`convergence audit verify` finds a missing checkpoint)."""
        if not self._checkpoints.may_be_due(ids):
            return
        try:
            with conn.transaction(), conn.cursor() as curs:
                tx = _PostgresCursorSql(curs)
                lock_log(tx, self.log_tables)
                self._checkpoints.take_due(tx)
        except Exception:
            log.exception("no checkpoint taken")
