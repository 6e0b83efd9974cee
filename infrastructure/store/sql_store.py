"""A thin transaction layer over the event store's own database, for the read models, leases and contact log.

The same SQL runs on SQLite and PostgreSQL: write it with %s placeholders and portable types.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from infrastructure.read_models.async_reads import AsyncReads
from infrastructure.store.event_store import postgres_env, private_database, sqlite_path

Row = tuple[Any, ...]


class Transaction(ABC):
    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bool:
        """Many rows into a table by the store's bulk path (COPY on PostgreSQL); False where there is none, and
        the caller inserts them by statements."""
        return False


DDL_LOCK = "convergence ddl"  # hashed, with the schema, into the advisory lock the creation of tables takes


class SqlStore(ABC):
    dialect: str

    @abstractmethod
    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Transaction]:
        """A write transaction. `durable=False` is for what can be derived again from the event log (a read
        model's rows with its position, a contact time): on PostgreSQL its commit does not wait for the WAL's
        flush to disk. A crash may then lose the last such commits, each whole, never half (the read model is
        back at an earlier position, and catches up again); the events are never written so."""

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """For queries that write nothing: no write lock on SQLite, no BEGIN/COMMIT round trips on PostgreSQL
        (each statement then sees what was committed when it started)."""
        with self.transaction() as tx:
            yield tx

    async def aquery(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """A read, as reading() makes it, from a coroutine: here in a worker thread, off the event loop."""
        return await asyncio.to_thread(self._read_once, sql, params)

    def _read_once(self, sql: str, params: Sequence[Any]) -> list[Row]:
        with self.reading() as tx:
            return tx.query(sql, params)

    async def aclose(self) -> None:  # noqa: B027 (a worker thread's reads hold nothing to release)
        """Release what aquery opened in the running event loop."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def checkpoint(self) -> None:  # noqa: B027 (PostgreSQL: nothing to do here)
        """Write SQLite's WAL back into the database file and empty it: what was overwritten (an erasure) leaves
        the WAL's older page images too."""

    def create(self, statements: Sequence[str]) -> None:
        with self.creating() as tx:
            for statement in statements:
                tx.execute(statement)

    @contextmanager
    def creating(self) -> Iterator[Transaction]:
        """A transaction in which to create tables, one process at a time: CREATE … IF NOT EXISTS is not safe
        against itself on PostgreSQL (two processes starting together on a new database both pass the check, and
        one fails on pg_type's unique index). Not to be nested: another connection waiting on it would wait forever."""
        with self.transaction() as tx:
            if self.dialect == "postgresql":
                tx.query("SELECT pg_advisory_xact_lock(hashtext(%s || current_schema()))", (DDL_LOCK,))
            yield tx

    @abstractmethod
    def columns(self, table: str) -> set[str]:
        """The columns the table has (none if it does not exist)."""


class _SqliteTransaction(Transaction):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql.replace("%s", "?"), tuple(params)).rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._conn.execute(sql.replace("%s", "?"), tuple(params)).fetchall())


class SqliteStore(SqlStore):
    """One connection per thread; BEGIN IMMEDIATE so that writers queue instead of failing on upgrade."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()
        self._shared: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        if path == ":memory:":  # tests: one connection, serialised
            self._shared = self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA secure_delete=ON")  # an erased data key or name is overwritten, not left in free pages
        return conn

    def _connection(self) -> sqlite3.Connection:
        if self._shared is not None:
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Transaction]:
        conn = self._connection()
        with self._lock if self._shared is not None else _nothing():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTransaction(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        conn = self._connection()
        with self._lock if self._shared is not None else _nothing():
            conn.execute("BEGIN")  # deferred: a read snapshot that takes no write lock
            try:
                yield _SqliteTransaction(conn)
            finally:
                conn.execute("COMMIT")

    def columns(self, table: str) -> set[str]:
        with self.reading() as tx:
            return {name for (name,) in tx.query("SELECT name FROM pragma_table_info(%s)", (table,))}

    def checkpoint(self) -> None:
        conn = self._connection()
        with self._lock if self._shared is not None else _nothing():
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


class _PostgresTransaction(Transaction):
    def __init__(self, cursor: psycopg.Cursor[Row]) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cursor.execute(sql, tuple(params) or None)
        return self._cursor.rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cursor.execute(sql, tuple(params) or None)
        return list(self._cursor.fetchall())

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bool:
        with self._cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return True


class PostgresStore(SqlStore):
    dialect = "postgresql"

    def __init__(self, database_url: str, pool_size: int = 10) -> None:
        env = postgres_env(database_url)
        # Generic plans: our statements are shaped for their index (keyset scans of partial indexes), and the
        # planner's custom plans for a large CFA (a tenant above the average size) cost as much as their execution
        # each time, for the same plan.
        options = "-c plan_cache_mode=force_generic_plan"
        if "POSTGRES_SCHEMA" in env:
            options += f" -c search_path={env['POSTGRES_SCHEMA']}"
        conninfo = psycopg.conninfo.make_conninfo(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            options=options,
            connect_timeout="10",
        )
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            open=True,
            name="convergence-views",
            kwargs={"autocommit": True},  # writes open their transaction explicitly; reads need none
        )
        self._async = AsyncReads(conninfo, pool_size)

    async def aquery(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """On the event loop's own connections: no worker thread."""
        return await self._async.query(sql, params)

    async def aclose(self) -> None:
        await self._async.close()

    def columns(self, table: str) -> set[str]:
        with self.reading() as tx:
            found = tx.query(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = %s",
                (table,),
            )
        return {name for (name,) in found}

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Transaction]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            if not durable:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            yield _PostgresTransaction(cursor)

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        with self._pool.connection() as conn, conn.cursor() as cursor:
            yield _PostgresTransaction(cursor)

    def close(self) -> None:
        self._pool.close()


def open_sql_store(database_url: str, pool_size: int = 10) -> SqlStore:
    if database_url.startswith("sqlite://"):
        path = sqlite_path(database_url)
        if path != ":memory:":
            private_database(Path(path))
        return SqliteStore(path)
    if database_url.startswith("memory://"):
        return SqliteStore(":memory:")
    return PostgresStore(database_url, pool_size)
