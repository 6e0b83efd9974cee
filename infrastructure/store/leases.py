"""Leases: one holder at a time for each background task, across processes, on SQLite and PostgreSQL.

A holder renews its lease every round; if it dies, another takes over once the lease has expired. A renewal
writes (and waits for a commit) only once half the lease has run: until its expiry no one else can take it, so a
holder that wrote it knows it still holds it without asking.
"""

from __future__ import annotations

import time

from infrastructure.store.sql_store import SqlStore

DDL = (
    "CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,"
    " expires_at DOUBLE PRECISION NOT NULL)",
)


class Leases:
    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._held: dict[tuple[str, str], float] = {}  # (lease, holder): when what this process wrote expires
        store.create(DDL)

    def acquire(self, name: str, holder: str, ttl_seconds: float) -> bool:
        """Take or renew the lease `name` for `holder`; False while another holder's lease runs."""
        now = time.time()
        if self._held.get((name, holder), 0.0) - now > ttl_seconds / 2:
            return True
        with self._store.transaction() as tx:
            changed = tx.execute(
                "INSERT INTO leases (name, holder, expires_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
                " WHERE leases.holder = excluded.holder OR leases.expires_at < %s",
                (name, holder, now + ttl_seconds, now),
            )
        if changed == 1:
            self._held[(name, holder)] = now + ttl_seconds
        else:
            self._held.pop((name, holder), None)
        return changed == 1

    def release(self, name: str, holder: str) -> None:
        self._held.pop((name, holder), None)
        with self._store.transaction() as tx:
            tx.execute("DELETE FROM leases WHERE name = %s AND holder = %s", (name, holder))

    def holder(self, name: str) -> str | None:
        with self._store.transaction() as tx:
            rows = tx.query("SELECT holder FROM leases WHERE name = %s AND expires_at >= %s", (name, time.time()))
        return str(rows[0][0]) if rows else None
