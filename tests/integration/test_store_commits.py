"""What the store's write transactions wait for: a read model's commit (derived again from the log after a crash)
does not wait for the WAL's flush on PostgreSQL, every other does; and a lease is written again only once half of
it has run."""

from __future__ import annotations

import pytest

from infrastructure.store.leases import Leases
from infrastructure.store.sql_store import open_sql_store


def test_only_a_transaction_asked_not_durable_skips_the_flush_on_postgresql(postgres_url: str) -> None:
    store = open_sql_store(postgres_url)
    try:
        with store.transaction() as tx:
            assert tx.query("SHOW synchronous_commit") == [("on",)]
        with store.transaction(durable=False) as tx:
            assert tx.query("SHOW synchronous_commit") == [("off",)]
        with store.transaction() as tx:  # the setting was the transaction's own: the connection is back in the pool
            assert tx.query("SHOW synchronous_commit") == [("on",)]
    finally:
        store.close()


def test_a_lease_is_renewed_in_the_store_only_once_half_of_it_has_run(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_sql_store(database_url)
    now = [1_000_000.0]
    monkeypatch.setattr("infrastructure.store.leases.time.time", lambda: now[0])
    leases, other = Leases(store), Leases(store)

    def expiry() -> float:
        with store.reading() as tx:
            return float(tx.query("SELECT expires_at FROM leases WHERE name = %s", ("sender",))[0][0])

    try:
        assert leases.acquire("sender", "a", 30)
        assert expiry() == 1_000_030.0
        now[0] += 14
        assert leases.acquire("sender", "a", 30)
        assert expiry() == 1_000_030.0  # not written: 16 s of the lease were left
        assert not other.acquire("sender", "b", 30)  # and no one else can take it meanwhile
        now[0] += 2
        assert leases.acquire("sender", "a", 30)
        assert expiry() == 1_000_046.0  # half of it has run: renewed
        now[0] += 31
        assert other.acquire("sender", "b", 30)  # "a" stopped renewing: its lease ran out, "b" takes over
        assert not leases.acquire("sender", "a", 30)
    finally:
        store.close()
