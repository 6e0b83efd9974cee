"""Which errors mean the database cannot be reached or is too busy right now (the request may succeed if sent
again), as opposed to a fault of the service."""

from __future__ import annotations

import sqlite3

import psycopg
from eventsourcing import persistence
from psycopg_pool import PoolTimeout

_UNREACHABLE: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,  # connection refused or lost, server shutting down, statement timeout
    PoolTimeout,  # no pooled connection within the timeout
    persistence.OperationalError,  # the event store's wrapping of the above
    persistence.InterfaceError,
    persistence.ConnectionUnavailableError,
)
_SQLITE_BUSY = ("database is locked", "database table is locked", "unable to open database file")


def store_unavailable(error: BaseException) -> bool:
    """True where retrying later may work; a programming error (no such table…) is not one."""
    if isinstance(error, _UNREACHABLE):
        return True
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and any(busy in text for busy in _SQLITE_BUSY)
