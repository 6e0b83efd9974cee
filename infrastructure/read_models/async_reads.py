"""Reads from a coroutine on PostgreSQL's own asynchronous connections: the API's hot reads (a page of the list,
the dashboard) then cost no hop to a worker thread, and the event loop serves other requests while the database
answers.

The pool belongs to the event loop that first reads through it: it is opened there, on first use, and replaced
if another loop reads (a test's asyncio.run after another's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

Row = tuple[Any, ...]


class AsyncReads:
    def __init__(self, conninfo: str, size: int) -> None:
        self._conninfo = conninfo
        self._size = size
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Event | None = None

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """One statement in autocommit, as the store's reading() runs it: it sees what was committed when it
        started."""
        pool = await self._opened()
        async with pool.connection() as conn, conn.cursor() as cursor:
            await cursor.execute(sql, tuple(params) or None)
            return list(await cursor.fetchall())

    async def close(self) -> None:
        """Close the pool (from the loop it belongs to)."""
        pool, self._pool, self._loop, self._ready = self._pool, None, None, None
        if pool is not None:
            await pool.close()

    async def _opened(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Row]]:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop or self._ready is None:
            self._pool = AsyncConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=self._size,
                open=False,
                name="convergence-reads-async",
                kwargs={"autocommit": True},
            )
            self._loop, self._ready = loop, asyncio.Event()
            await self._pool.open()
            self._ready.set()
        elif not self._ready.is_set():  # another coroutine is opening it
            await self._ready.wait()
        return self._pool
